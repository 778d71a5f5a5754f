"""Lengths of time as a person reads them, in the active language ("12.5 s", "12.5 秒")."""

from __future__ import annotations

from django.utils.formats import number_format
from django.utils.translation import gettext as _


def seconds_words(value: float, digits: int | None = None) -> str:
    """A length in seconds: one decimal under ten seconds, whole seconds from ten (unless
    ``digits`` says), in the active locale's number format."""
    if digits is None:
        digits = 0 if value >= 10 else 1
    return _("%(seconds)s s") % {"seconds": number_format(round(value, digits), digits)}
