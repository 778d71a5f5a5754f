"""The exact consent wording shown to users, versioned.

An attestation stores the version, the language and the full text it was given under
(and, when that was not English, the same text in English for the moderator); changing the
wording means adding a new version here, never editing an old one.

From 2026-12-v4 the wording exists in English and Simplified Chinese. It is legal text,
so it is written out here, versioned, rather than taken from the translation catalogs
(which may change under a version without anyone noticing).
"""

from __future__ import annotations

from dataclasses import dataclass

CURRENT_VERSION = "2026-12-v4"
# The languages the wording is written in, from 2026-12-v4 (earlier versions: English only).
LANGUAGES = ("en", "zh-hans")
BILINGUAL_FROM = "2026-12-v4"

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
    "2026-12-v4": "The result will not be used to deceive, to defame anyone, or as sexually explicit material.",
}

EVIDENCE_NOTE = {
    "2026-11-v2": "Evidence (optional unless a public figure is shown): the signed release as PDF, JPG or PNG.",
    "2026-12-v3": "Evidence (optional unless a public figure is involved): the signed release as PDF, JPG or PNG.",
    "2026-12-v4": "Evidence (optional unless a public figure is involved): the signed release as PDF, JPG or PNG.",
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
VOICE_CHOICES["2026-12-v4"] = VOICE_CHOICES["2026-11-v2"]

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
_YES_NO = "  ( ) Yes  ( ) No"

# 2026-12-v4 in Simplified Chinese: the same statements as the English of v3/v4, one for one.
_ZH_V4 = {
    "likeness": {
        ("video", "recording"): "视频中出镜的人已同意以此方式使用其肖像：将其口型与这段声音重新同步。",
        ("video", "generated"): "视频中出镜的人已同意以此方式使用其肖像：以生成的声音呈现其说出这段脚本。",
        ("portrait", "recording"): "人像照片中的人已同意以此方式使用其肖像：让其照片动起来，用这段声音说话。",
        ("portrait", "generated"): "人像照片中的人已同意以此方式使用其肖像：让其照片动起来，以生成的声音说出这段脚本。",
        ("generated", "optional"): "该短片不会呈现任何真实、可识别的人；或者该人已同意出现在短片中（并说出这段脚本）。",
    },
    "person_label": {
        "video": "视频中出镜者的姓名",
        "portrait": "人像照片中人物的姓名",
        "generated": "短片中出现的是谁？填写真实人物的姓名，或填写“无真实人物”",
    },
    "voice_question": {
        "video": "录音中是谁的声音？你凭什么权利将其与此人配在一起？",
        "portrait": "录音中是谁的声音？你凭什么权利将其用于这张人像照片？",
        "generated": "如果你添加了语音录音：那是谁的声音？你凭什么权利使用它？",
    },
    "voice_note": "不使用任何录音：声音由服务商根据你的脚本生成，不涉及任何人的真实声音。",
    "public_figure": {
        "video": "视频中出镜的人是公众人物吗（政治人物、官员、明星或其他知名人士）？",
        "portrait": "人像照片中的人是公众人物吗（政治人物、官员、明星或其他知名人士）？",
        "generated": "该短片会呈现公众人物吗（政治人物、官员、明星或其他知名人士）？",
    },
    "public_figure_tail": "如果是，请附上其签署的授权书：凡涉及公众人物的任务，均须经审核员批准后才会运行。",
    "no_misuse": "生成结果不会用于欺骗、诽谤任何人，也不会用作色情露骨内容。",
    "evidence": "证明材料（涉及公众人物时必填，否则可选）：签署的授权书，格式为 PDF、JPG 或 PNG。",
    "voice_choices": (
        ("own", "这是我自己的声音"),
        ("consented", "说话人已同意以此方式使用其声音"),
        ("licensed", "该录音已获得此用途的授权"),
        ("synthetic", "我拥有其使用权的合成声音"),
    ),
    "yes_no": "  ( ) 是  ( ) 否",
}


def language_of(language: str | None) -> str:
    """One of the wording's languages for a Django language code (``zh-hans``, ``zh-cn``,
    ``en-us``...): Chinese for any Chinese, English otherwise."""
    return "zh-hans" if (language or "").lower().startswith("zh") else "en"


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
    language: str = "en"
    voice_choices: tuple = VOICE_CHOICES["2026-11-v2"]
    yes_no: str = _YES_NO

    @property
    def asks_voice(self) -> bool:
        return bool(self.voice_question)


def wording(
    picture: str = "video", voice: str = "recording", version: str = CURRENT_VERSION, language: str = "en"
) -> Wording:
    """The consent wording for a job whose picture and voice are as given, in ``language``
    (English for versions written before the wording was bilingual)."""
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
    if language_of(language) == "zh-hans" and version >= BILINGUAL_FROM:
        zh = _ZH_V4
        return Wording(
            likeness=zh["likeness"][(picture, voice)],
            person_label=zh["person_label"][picture],
            voice_question="" if voice == "generated" else zh["voice_question"][picture],
            voice_note=zh["voice_note"] if voice == "generated" else "",
            public_figure=zh["public_figure"][picture] + zh["public_figure_tail"],
            no_misuse=zh["no_misuse"],
            evidence=zh["evidence"],
            language="zh-hans",
            voice_choices=zh["voice_choices"],
            yes_no=zh["yes_no"],
        )
    return Wording(
        likeness=_LIKENESS_V3[(picture, voice)],
        person_label=_PERSON_LABEL_V3[picture],
        voice_question="" if voice == "generated" else _VOICE_QUESTION_V3[picture],
        voice_note=_GENERATED_VOICE_NOTE_V3 if voice == "generated" else "",
        public_figure=_PUBLIC_FIGURE_V3[picture] + _PUBLIC_FIGURE_TAIL,
        no_misuse=NO_MISUSE_STATEMENT[version],
        evidence=EVIDENCE_NOTE[version],
    )


def shown_text(
    version: str = CURRENT_VERSION, *, picture: str = "video", voice: str = "recording", language: str = "en"
) -> str:
    """Everything the form showed under this version (for this kind of job, from
    2026-12-v3; in this language, from 2026-12-v4): statements, questions, choices."""
    if version == "2026-11-v1":
        return f"{LIKENESS_STATEMENT[version]}\n{VOICE_QUESTION[version]}"
    said = wording(picture, voice, version, language)
    choices = "\n".join(f"  ( ) {label}" for _, label in said.voice_choices)
    voice_part = f"{said.voice_question}\n{choices}" if said.asks_voice else said.voice_note
    lines = [f"[ ] {said.likeness}"]
    if version != "2026-11-v2":
        lines.append(f"{said.person_label}: ____")
    lines += [voice_part, f"{said.public_figure}\n{said.yes_no}", f"[ ] {said.no_misuse}", said.evidence]
    return "\n".join(lines)
