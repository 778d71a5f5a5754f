"""The language a script is written in, from its characters, and the voice a speaking
route uses for it.

Routes that generate speech from a script (Kling lip-sync from text, HappyHorse, Wan without
a recording) are told the script's language and given a voice that speaks it; a route that
cannot speak it is not offered for it (``providers.router.fit_problems`` says why).
"""

from __future__ import annotations

import unicodedata

from django.utils.translation import gettext_lazy as _

# The languages we can tell apart by script, with their names for people.
LANGUAGE_NAMES = {
    "en": _("English"),
    "zh": _("Chinese"),
    "ja": _("Japanese"),
    "ko": _("Korean"),
    "ru": _("Russian"),
    "ar": _("Arabic"),
}


def _script_of(char: str) -> str:
    code = ord(char)
    if 0x3040 <= code <= 0x30FF or 0x31F0 <= code <= 0x31FF:
        return "ja"  # hiragana, katakana
    if 0xAC00 <= code <= 0xD7AF or 0x1100 <= code <= 0x11FF or 0x3130 <= code <= 0x318F:
        return "ko"  # hangul
    if 0x4E00 <= code <= 0x9FFF or 0x3400 <= code <= 0x4DBF or 0x20000 <= code <= 0x2A6DF:
        return "han"
    if 0x0400 <= code <= 0x04FF:
        return "ru"
    if 0x0600 <= code <= 0x06FF:
        return "ar"
    if char.isalpha() and unicodedata.name(char, "").startswith("LATIN"):
        return "latin"
    return ""


def script_language(text: str) -> str:
    """ "zh", "en", "ja", "ko", "ru", "ar", or "" for a script with no letters.

    Han characters make Chinese unless kana is there too (Japanese mixes both); Latin
    letters are taken as English, the only Latin-script language the speaking routes are
    documented to voice. Quoted brand names in another script do not flip the language:
    the script that covers most letters wins."""
    counts: dict[str, int] = {}
    for char in text:
        script = _script_of(char)
        if script:
            counts[script] = counts.get(script, 0) + 1
    if not counts:
        return ""
    if counts.get("ja") and counts.get("ja", 0) + counts.get("han", 0) >= counts.get("latin", 0):
        return "ja"
    # A Han character carries a syllable, a Latin letter a fraction of one: weigh them so a
    # Chinese line with an English brand name stays Chinese.
    weighted = {script: count * (3 if script == "han" else 1) for script, count in counts.items()}
    winner = max(weighted, key=weighted.get)
    return {"han": "zh", "latin": "en"}.get(winner, winner)


def language_name(code: str) -> str:
    return str(LANGUAGE_NAMES.get(code, code))
