"""The exact consent wording shown to users, versioned.

An attestation stores the version and the full text it was given under; changing the
wording means adding a new version here, never editing an old one.
"""

from __future__ import annotations

from dataclasses import dataclass

CURRENT_VERSION = "2026-12-v3"

LIKENESS_STATEMENT = {
    "2026-11-v1": "The person shown agreed to this use of their likeness.",
    "2026-11-v2": "The person shown agreed to this use of their likeness.",
}

VOICE_QUESTION = {
    "2026-11-v1": "Whose voice is in the audio, and what gives you the right to pair it with this face?",
    "2026-11-v2": "Whose voice is in the audio, and what gives you the right to pair it with this face?",
}

PUBLIC_FIGURE_QUESTION = {
    "2026-11-v2": "Is the person shown a public figure (a politician, official, celebrity or other well-known "
    "person)? If yes, attach their signed release: a moderator approves every such job before it runs.",
}

NO_MISUSE_STATEMENT = {
    "2026-11-v2": "The result will not be used to deceive, to defame anyone, or as sexually explicit material.",
    "2026-12-v3": "The result will not be used to deceive, to defame anyone, or as sexually explicit material.",
}

EVIDENCE_NOTE = {
    "2026-11-v2": "Evidence (optional unless a public figure is shown): the signed release as PDF, JPG or PNG.",
    "2026-12-v3": "Evidence (optional unless a public figure is involved): the signed release as PDF, JPG or PNG.",
}

VOICE_CHOICES = {
    "2026-11-v2": (
        ("own", "It is my own voice"),
        ("consented", "The speaker consented to this use of their voice"),
        ("licensed", "The recording is licensed for this use"),
        ("synthetic", "A synthetic voice I have the rights to"),
    ),
}
VOICE_CHOICES["2026-12-v3"] = VOICE_CHOICES["2026-11-v2"]

# From 2026-12-v3 the wording says what each kind of job really involves. The picture is a
# real person's "video", a real person's "portrait", or "generated" from a prompt; the voice
# is a "recording" the user uploads, "generated" by the provider from the script, or
# "optional" (a generated clip that may follow a recording).
PICTURES = ("video", "portrait", "generated")
VOICES = ("recording", "generated", "optional")

_LIKENESS_V3 = {
    ("video", "recording"): "The person shown in the video agreed to this use of their likeness: their lips "
    "re-synced to this voice.",
    ("video", "generated"): "The person shown in the video agreed to this use of their likeness: shown saying "
    "this script in a generated voice.",
    ("portrait", "recording"): "The person in the portrait agreed to this use of their likeness: their photo "
    "animated to speak with this voice.",
    ("portrait", "generated"): "The person in the portrait agreed to this use of their likeness: their photo "
    "animated to say this script in a generated voice.",
    ("generated", "optional"): "The clip will not depict a real, identifiable person, or that person agreed "
    "to appear in it (and to say this script).",
}
_PERSON_LABEL_V3 = {
    "video": "Name of the person shown in the video",
    "portrait": "Name of the person in the portrait",
    "generated": "Who appears in the clip? A real person's name, or \u201cno real person\u201d",
}
_VOICE_QUESTION_V3 = {
    "video": "Whose voice is in the recording, and what gives you the right to pair it with this person?",
    "portrait": "Whose voice is in the recording, and what gives you the right to give it to this portrait?",
    "generated": "If you add a voice recording: whose voice is it, and what gives you the right to use it?",
}
_GENERATED_VOICE_NOTE_V3 = (
    "No recording is used: the provider generates the voice from your script, so no one's real voice is involved."
)
_PUBLIC_FIGURE_V3 = {
    "video": "Is the person shown a public figure (a politician, official, celebrity or other well-known person)?",
    "portrait": "Is the person in the portrait a public figure (a politician, official, celebrity or other "
    "well-known person)?",
    "generated": "Will the clip depict a public figure (a politician, official, celebrity or other well-known person)?",
}
_PUBLIC_FIGURE_TAIL = " If yes, attach their signed release: a moderator approves every such job before it runs."


@dataclass(frozen=True)
class Wording:
    """What the consent questions say for one kind of job, under one version."""

    likeness: str
    person_label: str
    voice_question: str  # empty when no recording is involved
    voice_note: str  # said instead of the question when the voice is generated
    public_figure: str
    no_misuse: str
    evidence: str

    @property
    def asks_voice(self) -> bool:
        return bool(self.voice_question)


def wording(picture: str = "video", voice: str = "recording", version: str = CURRENT_VERSION) -> Wording:
    """The consent wording for a job whose picture and voice are as given."""
    if version in ("2026-11-v1", "2026-11-v2"):
        return Wording(
            likeness=LIKENESS_STATEMENT[version],
            person_label="Name of the person shown",
            voice_question=VOICE_QUESTION[version],
            voice_note="",
            public_figure=PUBLIC_FIGURE_QUESTION.get(version, PUBLIC_FIGURE_QUESTION["2026-11-v2"]),
            no_misuse=NO_MISUSE_STATEMENT["2026-11-v2"],
            evidence=EVIDENCE_NOTE["2026-11-v2"],
        )
    if picture not in PICTURES or voice not in VOICES:
        raise ValueError(f"no consent wording for a {picture} picture with a {voice} voice")
    if picture == "generated":
        voice = "optional"
    elif voice == "optional":
        voice = "recording"
    return Wording(
        likeness=_LIKENESS_V3[(picture, voice)],
        person_label=_PERSON_LABEL_V3[picture],
        voice_question="" if voice == "generated" else _VOICE_QUESTION_V3[picture],
        voice_note=_GENERATED_VOICE_NOTE_V3 if voice == "generated" else "",
        public_figure=_PUBLIC_FIGURE_V3[picture] + _PUBLIC_FIGURE_TAIL,
        no_misuse=NO_MISUSE_STATEMENT[version],
        evidence=EVIDENCE_NOTE[version],
    )


def shown_text(version: str = CURRENT_VERSION, *, picture: str = "video", voice: str = "recording") -> str:
    """Everything the form showed under this version (for this kind of job, from
    2026-12-v3): statements, questions, choices."""
    if version == "2026-11-v1":
        return f"{LIKENESS_STATEMENT[version]}\n{VOICE_QUESTION[version]}"
    said = wording(picture, voice, version)
    choices = "\n".join(f"  ( ) {label}" for _, label in VOICE_CHOICES[version])
    voice_part = f"{said.voice_question}\n{choices}" if said.asks_voice else said.voice_note
    lines = [f"[ ] {said.likeness}"]
    if version != "2026-11-v2":
        lines.append(f"{said.person_label}: ____")
    lines += [voice_part, f"{said.public_figure}\n  ( ) Yes  ( ) No", f"[ ] {said.no_misuse}", said.evidence]
    return "\n".join(lines)
