"""The exact consent wording shown to users, versioned.

An attestation stores the version and the full text it was given under; changing the
wording means adding a new version here, never editing an old one.
"""

CURRENT_VERSION = "2026-11-v1"

LIKENESS_STATEMENT = {
    "2026-11-v1": "The person shown agreed to this use of their likeness.",
}

VOICE_QUESTION = {
    "2026-11-v1": "Whose voice is in the audio, and what gives you the right to pair it with this face?",
}


def shown_text(version: str = CURRENT_VERSION) -> str:
    return f"{LIKENESS_STATEMENT[version]}\n{VOICE_QUESTION[version]}"
