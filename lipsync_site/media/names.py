"""The user's file name, kept as text for display only."""

import unicodedata

MAX_NAME_CHARS = 255


def clean_original_name(name: str) -> str:
    """Drop directory parts, control and bidi-override characters; cap the length.

    The result is shown (escaped) in pages and never used to build a path.
    """
    name = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    kept = []
    for char in name:
        category = unicodedata.category(char)
        # Cc: controls incl. NUL; Cf: format chars incl. the right-to-left override.
        if category in {"Cc", "Cf", "Cs", "Co", "Cn"}:
            continue
        kept.append(char)
    return "".join(kept).strip()[:MAX_NAME_CHARS]


def shorten(name: str, limit: int = 48) -> str:
    if len(name) <= limit:
        return name
    head, _, ext = name.rpartition(".")
    if head and len(ext) <= 5:
        return f"{head[: limit - len(ext) - 2]}….{ext}"
    return name[: limit - 1] + "…"
