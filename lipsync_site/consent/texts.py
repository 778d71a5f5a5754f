"""The exact consent wording shown to users, versioned.

An attestation stores the version and the full text it was given under; changing the
wording means adding a new version here, never editing an old one.
"""

from __future__ import annotations

CURRENT_VERSION = "2026-11-v2"

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
}

EVIDENCE_NOTE = {
    "2026-11-v2": "Evidence (optional unless a public figure is shown): the signed release as PDF, JPG or PNG.",
}

VOICE_CHOICES = {
    "2026-11-v2": (
        ("own", "It is my own voice"),
        ("consented", "The speaker consented to this use of their voice"),
        ("licensed", "The recording is licensed for this use"),
        ("synthetic", "A synthetic voice I have the rights to"),
    ),
}


def shown_text(version: str = CURRENT_VERSION) -> str:
    """Everything the form showed under this version: statements, questions, choices."""
    if version == "2026-11-v1":
        return f"{LIKENESS_STATEMENT[version]}\n{VOICE_QUESTION[version]}"
    choices = "\n".join(f"  ( ) {label}" for _, label in VOICE_CHOICES[version])
    return "\n".join(
        [
            f"[ ] {LIKENESS_STATEMENT[version]}",
            f"{VOICE_QUESTION[version]}\n{choices}",
            f"{PUBLIC_FIGURE_QUESTION[version]}\n  ( ) Yes  ( ) No",
            f"[ ] {NO_MISUSE_STATEMENT[version]}",
            EVIDENCE_NOTE[version],
        ]
    )
