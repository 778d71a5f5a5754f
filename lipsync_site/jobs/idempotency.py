"""Doing a creating or spending request once: the same key (and the same request) within
a day gets the first answer, not a second job and a second hold.

The key's row is inserted with ``INSERT ... ON CONFLICT DO NOTHING`` and then locked
(``select_for_update``) in the transaction that does the work, so a concurrent twin waits
on the unique index until the first commits and then reads its answer. A request that
fails leaves no row (its transaction rolls back), so it may be sent again.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from lipsync_site.jobs.models import IdempotencyKey

KEEP_FOR = timedelta(hours=24)
MAX_KEY_LENGTH = 255


class KeyReused(Exception):
    """The key was used within the day for a different request."""


def fingerprint_of(*parts) -> str:
    """A stable hash of what a request asks for (JSON-able parts, or bytes)."""
    digest = hashlib.sha256()
    for part in parts:
        if isinstance(part, bytes):
            digest.update(part)
        else:
            digest.update(json.dumps(part, sort_keys=True, separators=(",", ":"), default=str).encode())
        digest.update(b"\x00")
    return digest.hexdigest()


@dataclass
class Claim:
    """The answer already given for this key (``replay``), or the right to give it now."""

    row: IdempotencyKey
    replay: bool
    recorded: bool = False

    @property
    def status_code(self) -> int:
        return self.row.status_code

    @property
    def response(self) -> dict:
        return self.row.response

    def record(self, *, status_code: int, response: dict) -> None:
        """Keep the answer for the repeats (inside the claiming transaction)."""
        self.row.status_code = status_code
        self.row.response = response
        self.row.save(update_fields=["status_code", "response"])
        self.recorded = True


@contextmanager
def once(*, workspace, origin: str, key: str, fingerprint: str) -> Iterator[Claim]:
    """Run the block once per (workspace, origin, key) within a day, in one transaction.

    Yields a ``Claim``: with ``replay`` the block must answer ``claim.response``; otherwise
    it does the work and calls ``claim.record``. A block that records nothing (the work was
    refused) or raises leaves no trace of the key. Raises ``KeyReused`` when the key was
    used for another request (another ``fingerprint``).
    """
    with transaction.atomic():
        keys = IdempotencyKey.objects.filter(workspace=workspace, origin=origin, key=key)
        keys.filter(created_at__lt=timezone.now() - KEEP_FOR).delete()
        IdempotencyKey.objects.bulk_create(
            [IdempotencyKey(workspace=workspace, origin=origin, key=key, fingerprint=fingerprint)],
            ignore_conflicts=True,
        )
        row = keys.select_for_update().get()
        if row.response:
            if row.fingerprint != fingerprint:
                raise KeyReused(key)
            yield Claim(row, replay=True)
            return
        claim = Claim(row, replay=False)
        yield claim
        if not claim.recorded:
            transaction.set_rollback(True)


def forget_expired(now=None, *, batch: int = 1000) -> int:
    """Delete keys older than a day (the sweep calls this); returns how many."""
    cutoff = (now or timezone.now()) - KEEP_FOR
    expired = list(IdempotencyKey.objects.filter(created_at__lt=cutoff).values_list("pk", flat=True)[:batch])
    if expired:
        IdempotencyKey.objects.filter(pk__in=expired).delete()
    return len(expired)
