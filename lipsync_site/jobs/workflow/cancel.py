"""Cancel: the owner stops a job that has not started at the provider, or one the provider
agrees to stop (RunComfy cancels only queued requests); and, best effort, a request we no
longer want is stopped at the provider."""

from __future__ import annotations

from lipsync_site.jobs.models import TERMINAL, EventKind, Job, Status
from lipsync_site.jobs.workflow.policy import POLLED_STATES, CancelOutcome, Say
from lipsync_site.jobs.workflow.settle import settle
from lipsync_site.providers.base import ProviderError
from lipsync_site.providers.registry import get_provider

_NOT_STARTED = {Status.AWAITING_REVIEW, Status.QUEUED}


def request_cancel(job: Job, *, actor: str, message: str = Say.CANCELLED_BY_OWNER) -> CancelOutcome:
    """Cancel ``job`` if it can still be stopped; nothing changes unless it is cancelled."""
    job.refresh_from_db()
    if job.is_terminal:
        return CancelOutcome.FINISHED
    if job.status in _NOT_STARTED:
        return _settled(job, actor=actor, message=message, allowed_from=_NOT_STARTED)
    if job.status not in POLLED_STATES:
        return CancelOutcome.BUSY
    if not job.provider_request_id:  # an engine running here, inside its submit task
        return CancelOutcome.RUNNING
    try:
        stopped = get_provider(job.provider).cancel(job.provider_request_id)
    except ProviderError as exc:
        job.log(f"Cancel failed at the provider: {exc.message}", kind=EventKind.CANCEL_UNREACHABLE, actor=actor)
        return CancelOutcome.UNREACHABLE
    if not stopped:
        job.log("Cancel refused: the provider is already working on it.", kind=EventKind.CANCEL_REFUSED, actor=actor)
        return CancelOutcome.RUNNING
    return _settled(job, actor=actor, message=message, allowed_from=set(POLLED_STATES))


def _settled(job: Job, *, actor: str, message: str, allowed_from) -> CancelOutcome:
    if settle(
        job, to=Status.CANCELLED, why=message, kind=EventKind.CANCEL_DONE, actor=actor, allowed_from=allowed_from
    ):
        return CancelOutcome.CANCELLED
    job.refresh_from_db()
    return CancelOutcome.FINISHED if job.is_terminal else CancelOutcome.BUSY


def cancel_at_provider(job_id) -> None:
    """Best effort, for a job that has already ended here: ask the provider to stop its
    request, so it does not work on something nobody pays for."""
    job = Job.objects.get(pk=job_id)
    if not job.provider_request_id or job.status not in TERMINAL:
        return
    try:
        stopped = get_provider(job.provider).cancel(job.provider_request_id)
    except ProviderError as exc:
        job.log(f"Could not cancel at the provider: {exc.message}", kind=EventKind.CANCEL_UNREACHABLE)
        return
    job.log(
        Say.CANCELLED_AT_PROVIDER if stopped else "The provider was already running it; its output will be discarded.",
        kind=EventKind.CANCEL_AT_PROVIDER if stopped else EventKind.CANCEL_REFUSED,
    )
