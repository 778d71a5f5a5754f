"""The sweep: finds work the queue forgot and jobs nobody is finishing.

django-q2 delivers at least once, loses tasks with the Redis broker when a worker dies,
and a worker or tracker may be killed at any point. Each rule below acts through the
workflow's guarded steps, so several sweeps running at once (one per tracker) do no harm:

1. queued jobs whose submit task has not run for ``JOBS_REQUEUE_AFTER_SECONDS`` are
   enqueued again, oldest first, within the owner's running limit (submit is guarded);
2. a submission whose lease expired: with a request id saved, the job goes on to be
   polled; without one its fate is unknown, so it fails visibly and its hold is released
   (never resubmitted, unless its provider dedupes by idempotency key);
3. collecting jobs with no live collect task are enqueued again (collect is idempotent);
4. jobs past their route's time limit fail (cancelled at the provider when possible) and
   release their hold.
"""

from __future__ import annotations

import contextlib
import logging
from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from lipsync_site.jobs import idempotency
from lipsync_site.jobs.models import EventKind, Job, Status
from lipsync_site.jobs.workflow.leases import Lease, lease_free
from lipsync_site.jobs.workflow.policy import POLLED_STATES, Say
from lipsync_site.jobs.workflow.queue import Task, mark_enqueued, start_waiting_jobs
from lipsync_site.jobs.workflow.settle import settle
from lipsync_site.jobs.workflow.submit import back_to_queue, hand_over_to_polling, resend_is_safe
from lipsync_site.providers.base import ProviderError
from lipsync_site.providers.registry import get_provider

logger = logging.getLogger(__name__)

BATCH = 200


def requeue_forgotten_submissions(now) -> int:
    stale_before = now - timedelta(seconds=settings.JOBS_REQUEUE_AFTER_SECONDS)
    owners = (
        Job.objects.filter(status=Status.QUEUED)
        .filter(Q(next_poll_at__isnull=True) | Q(next_poll_at__lte=now))
        .annotate(last_enqueued=Coalesce("enqueued_at", "created_at"))
        .filter(last_enqueued__lt=stale_before)
        .order_by()
        .values_list("owner_id", flat=True)
        .distinct()
    )
    return sum(start_waiting_jobs(owner_id, stale_before=stale_before) for owner_id in list(owners[:BATCH]))


def settle_abandoned_submissions(now) -> int:
    """Submitting (or running on the local engine inside its submit task) with an expired
    lease: the submitting worker is gone."""
    settled = 0
    abandoned = (
        Job.objects.filter(lease_expires_at__lt=now)
        .filter(Q(status=Status.SUBMITTING) | Q(status=Status.RUNNING, provider_request_id=""))
        .order_by("lease_expires_at")[:BATCH]
    )
    for job in abandoned:
        lease = Lease(job.lease_owner)
        if job.provider_request_id:
            # Accepted and saved; only the hand-over to polling was lost.
            settled += hand_over_to_polling(
                job,
                kind=EventKind.SWEEP_HANDOVER,
                actor="sweep",
                message="Submission was accepted; polling takes over from a stopped worker.",
                guard=lease.holds(),
            )
            continue
        if (
            job.provider != "local"
            and resend_is_safe(get_provider(job.provider), job)
            and back_to_queue(
                job,
                lease,
                delay=0.0,
                message="The submitting worker stopped; resending with the same idempotency key.",
                payload={"lease": lease.token, "idempotency_key": str(job.pk)},
                lease_expired_before=now,
            )
        ):
            settled += 1
            continue
        if job.provider == "local":
            # Nothing was sent anywhere: the engine died with its worker.
            message = Say.ENGINE_LOST
        else:
            message = Say.UNKNOWN_SUBMISSION
            logger.error("Job %s: submitting worker lost before the provider answered (key %s)", job.pk, job.pk)
        settled += bool(
            settle(
                job,
                to=Status.FAILED,
                why=message,
                kind=EventKind.SWEEP_ABANDONED,
                actor="sweep",
                payload={"lease": lease.token, "idempotency_key": str(job.pk)},
                lease=lease,
                lease_expired_before=now,
                allowed_from={Status.SUBMITTING, Status.RUNNING},
            )
        )
    return settled


def requeue_stalled_collections(now) -> int:
    stale_before = now - timedelta(seconds=settings.JOBS_REQUEUE_AFTER_SECONDS)
    stalled = (
        Job.objects.filter(status=Status.COLLECTING)
        .filter(lease_free(now))
        .annotate(last_enqueued=Coalesce("enqueued_at", "updated_at"))
        .filter(last_enqueued__lt=stale_before)
        .values_list("id", "enqueued_at")[:BATCH]
    )
    return sum(
        mark_enqueued(job_id, Task.COLLECT, status=Status.COLLECTING, was=enqueued_at)
        for job_id, enqueued_at in stalled
    )


def enforce_time_limits(now) -> int:
    overdue = Job.objects.filter(status__in=POLLED_STATES, deadline_at__lt=now).filter(lease_free(now))[:BATCH]
    ended = 0
    for job in overdue:
        if job.provider_request_id:
            with contextlib.suppress(ProviderError):
                get_provider(job.provider).cancel(job.provider_request_id)
        ended += bool(
            settle(
                job,
                to=Status.FAILED,
                why=Say.TIME_LIMIT,
                kind=EventKind.TIME_LIMIT,
                actor="sweep",
                allowed_from=set(POLLED_STATES),
            )
        )
    return ended


def sweep(now=None) -> dict[str, int]:
    """One pass of every rule; returns how many jobs each touched."""
    now = now or timezone.now()
    return {
        "abandoned_submissions": settle_abandoned_submissions(now),
        "time_limits": enforce_time_limits(now),
        "stalled_collections": requeue_stalled_collections(now),
        "requeued_submissions": requeue_forgotten_submissions(now),
        # Not jobs: the new-job form's and the API's idempotency keys, kept for a day.
        "expired_keys": idempotency.forget_expired(now),
    }
