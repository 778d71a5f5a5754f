"""Poll: ask the provider how a request is doing, move the job along, schedule the next
poll and give back the tracker's lease."""

from __future__ import annotations

import contextlib
import enum
import logging
from datetime import timedelta

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from lipsync_site.jobs.models import EventKind, Job, Status, TransitionRefused
from lipsync_site.jobs.workflow import policy
from lipsync_site.jobs.workflow.leases import RELEASED, Lease
from lipsync_site.jobs.workflow.policy import POLLED_STATES, Say
from lipsync_site.jobs.workflow.queue import Task, mark_enqueued, slot_freed
from lipsync_site.jobs.workflow.settle import settle
from lipsync_site.providers.base import AccountProblem, NotFound, ProviderError, RequestState, RetryableError
from lipsync_site.providers.registry import get_provider

logger = logging.getLogger(__name__)


class PollOutcome(enum.StrEnum):
    SKIPPED = "skipped"
    WAITING = "waiting"
    RETRY = "retry"
    COLLECTING = "collecting"
    ENDED = "ended"


def _mine(job: Job, lease: Lease | None):
    return lease.held(job.pk) if lease else Job.objects.filter(pk=job.pk)


def poll_job(job_id, *, lease: Lease | None = None, fair_share: float = 0.0) -> PollOutcome:
    """Ask the provider about the job's request once. ``lease``: the tracker's claim, given
    back by whatever this poll writes; ``fair_share``: the account's minimum poll interval."""
    job = Job.objects.get(pk=job_id)
    if job.status not in POLLED_STATES or not job.provider_request_id:
        _mine(job, lease).update(**RELEASED)
        return PollOutcome.SKIPPED
    provider = get_provider(job.provider)
    now = timezone.now()
    age = (now - (job.started_at or job.created_at)).total_seconds()
    try:
        result = provider.poll(job.provider_request_id)
    except RetryableError as exc:
        _mine(job, lease).update(
            **RELEASED,
            next_poll_at=now + timedelta(seconds=max(exc.delay, policy.poll_interval(age, fair_share=fair_share))),
            last_polled_at=now,
            poll_count=F("poll_count") + 1,
        )
        return PollOutcome.RETRY
    except AccountProblem as exc:
        # Our token or account, not this job: every job would fail alike. Keep the job,
        # alert, and let its time limit end it if nobody fixes the account.
        logger.error("Provider account problem while polling job %s: %s", job.pk, exc.message)
        _mine(job, lease).update(**RELEASED, next_poll_at=now + timedelta(seconds=policy.account_problem_backoff()))
        return PollOutcome.RETRY
    except NotFound as exc:
        settle(
            job,
            to=Status.FAILED,
            why=Say.PROVIDER_LOST_REQUEST,
            kind=EventKind.RUN_FAILED,
            payload={"detail": exc.message},
            allowed_from=set(POLLED_STATES),
        )
        return PollOutcome.ENDED
    except ProviderError as exc:
        settle(
            job,
            to=Status.FAILED,
            why=exc.message,
            kind=EventKind.RUN_FAILED,
            actor="provider",
            payload=exc.payload,
            allowed_from=set(POLLED_STATES),
        )
        return PollOutcome.ENDED

    now = timezone.now()
    progress_fields = {"last_polled_at": now, "poll_count": F("poll_count") + 1}
    if result.state in {RequestState.QUEUED, RequestState.RUNNING}:
        if result.state == RequestState.QUEUED:
            progress_fields["queue_position"] = result.queue_position
        elif job.status == Status.PROVIDER_QUEUED:
            with contextlib.suppress(TransitionRefused):
                job.transition(
                    Status.RUNNING,
                    kind=EventKind.RUN_STARTED,
                    actor="provider",
                    message="Running at the provider.",
                    payload=result.payload,
                    queue_position=None,
                )
        if result.progress is not None:
            progress_fields["progress"] = min(1.0, max(0.0, result.progress))
        _mine(job, lease).filter(status__in=POLLED_STATES).update(
            **progress_fields,
            **RELEASED,
            next_poll_at=now + timedelta(seconds=policy.poll_interval(age, fair_share=fair_share)),
        )
        return PollOutcome.WAITING
    _mine(job, lease).update(**progress_fields)
    if result.state == RequestState.SUCCEEDED:
        with transaction.atomic():
            try:
                job.transition(
                    Status.COLLECTING,
                    kind=EventKind.RUN_FINISHED,
                    actor="provider",
                    message="Finished at the provider; collecting.",
                    payload=result.payload,
                    allowed_from=set(POLLED_STATES),
                    **RELEASED,
                    progress=1.0,
                    queue_position=None,
                    collect_attempts=0,
                )
            except TransitionRefused:
                return PollOutcome.SKIPPED
            mark_enqueued(job.pk, Task.COLLECT, status=Status.COLLECTING)
            slot_freed(job.owner_id)
        return PollOutcome.COLLECTING
    if result.state == RequestState.FAILED:
        settle(
            job,
            to=Status.FAILED,
            why=result.message or Say.PROVIDER_FAILED,
            kind=EventKind.RUN_FAILED,
            actor="provider",
            payload=result.payload,
            allowed_from=set(POLLED_STATES),
        )
    elif result.state == RequestState.CANCELLED:
        settle(
            job,
            to=Status.CANCELLED,
            why=Say.CANCELLED_AT_PROVIDER,
            kind=EventKind.CANCEL_AT_PROVIDER,
            actor="provider",
            allowed_from=set(POLLED_STATES),
        )
    return PollOutcome.ENDED
