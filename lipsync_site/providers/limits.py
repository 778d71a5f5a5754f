"""Providers' documented call limits, shared through the database by every process.

A sliding minute: a call is granted when fewer than ``per_minute`` calls were granted in
the last 60 seconds (never more, whatever the clocks of the provider's window). The row of
the limit is locked while it is read and written (``select_for_update``; SQLite serialises
writers itself).
"""

from __future__ import annotations

import time

from django.db import transaction

from lipsync_site.providers.models import CallWindow

WINDOW_SECONDS = 60.0


def take_call(key: str, *, per_minute: int, now: float | None = None) -> float:
    """Take one call from the limit ``key``. Returns 0.0 when granted, else the seconds
    until a call will be free (nothing was taken)."""
    now = time.time() if now is None else now
    with transaction.atomic():
        window, _created = CallWindow.objects.select_for_update().get_or_create(key=key)
        recent = sorted(stamp for stamp in window.calls if now - stamp < WINDOW_SECONDS)
        if len(recent) >= per_minute:
            if recent != window.calls:
                CallWindow.objects.filter(key=key).update(calls=recent)
            return max(0.05, recent[len(recent) - per_minute] + WINDOW_SECONDS - now)
        recent.append(now)
        CallWindow.objects.filter(key=key).update(calls=recent)
        return 0.0
