"""Leases: work in progress is leased, never owned.

A step (submit, poll, collect) first claims its job with a guarded update that writes a
lease: a token unique to this claim and an expiry. A second delivery of the same task finds
the lease held and does nothing; a worker that dies leaves a lease that expires, and the
sweep hands the job on. Later writes of the step are guarded by the same token, so a holder
whose lease expired and was taken over cannot overwrite its successor.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.db import DatabaseError, connections
from django.db.models import Q, QuerySet
from django.utils import timezone

from lipsync_site.jobs.models import Job

# The fields of a job row that say nobody holds it; terminal moves write them too.
RELEASED = {"lease_owner": "", "lease_expires_at": None}


def lease_free(now: datetime) -> Q:
    """Jobs nobody holds, or whose holder's lease has run out."""
    return Q(lease_expires_at__isnull=True) | Q(lease_expires_at__lt=now)


def expiry(now: datetime, seconds: float | None = None) -> datetime:
    return now + timedelta(seconds=seconds if seconds is not None else settings.JOBS_LEASE_SECONDS)


class Lease:
    """One claim on one or more jobs, named by a token that says who holds it (for the admin)."""

    def __init__(self, token: str | None = None):
        self.token = token or f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:12]}"

    def __repr__(self) -> str:
        return f"Lease({self.token!r})"

    def fields(self, now: datetime | None = None) -> dict:
        """The fields that make a guarded update take this lease."""
        return {"lease_owner": self.token, "lease_expires_at": expiry(now or timezone.now())}

    def holds(self) -> Q:
        """A guard: the job is still held by this lease."""
        return Q(lease_owner=self.token)

    def held(self, job_id) -> QuerySet:
        return Job.objects.filter(pk=job_id, lease_owner=self.token)

    def claim(self, jobs: QuerySet, **fields) -> int:
        """Take every job of ``jobs`` that nobody holds; returns how many were taken."""
        now = timezone.now()
        return jobs.filter(lease_free(now)).update(**self.fields(now), **fields)

    def renew(self, job_id, **fields) -> bool:
        """Push the expiry out; False if the lease was lost (taken over, or released)."""
        return bool(self.held(job_id).update(lease_expires_at=expiry(timezone.now()), **fields))

    def release(self, job_id, **fields) -> bool:
        """Give the job back (with ``fields`` written by the same guarded update)."""
        return bool(self.held(job_id).update(**RELEASED, **fields))

    @contextlib.contextmanager
    def heartbeat(self, job_id):
        """Renew every third of the lease's length while the block runs (a long download or
        a blocking provider call), so a live worker keeps its job and a dead one loses it
        within one lease."""
        stop = threading.Event()
        every = max(0.2, settings.JOBS_LEASE_SECONDS / 3.0)

        def beat():
            try:
                while not stop.wait(every):
                    with contextlib.suppress(DatabaseError):
                        self.renew(job_id)
            finally:
                connections.close_all()  # this thread's own connections

        thread = threading.Thread(target=beat, name=f"lease-{self.token[-12:]}", daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join(timeout=5)
