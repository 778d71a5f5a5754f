"""Submit: a queued job is won by one worker, handed to its provider, and the provider's
request id is saved before anything else happens. A paid request is never sent twice: a
submission is retried only when it provably never reached the provider, or when the
provider documents that a resend with the same idempotency key starts nothing new (Sync
direct: ``supports_idempotency_keys``)."""

from __future__ import annotations

import contextlib
import logging
import time
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone

from lipsync_site.jobs.models import EventKind, Job, Status, TransitionRefused
from lipsync_site.jobs.workflow import policy
from lipsync_site.jobs.workflow.leases import RELEASED, Lease, expiry
from lipsync_site.jobs.workflow.policy import Say
from lipsync_site.jobs.workflow.queue import may_start
from lipsync_site.jobs.workflow.settle import settle
from lipsync_site.media import links
from lipsync_site.media.models import Asset
from lipsync_site.media.scratch import local_copy
from lipsync_site.providers.base import (
    AccountProblem,
    InputFile,
    InputRejected,
    ProviderError,
    RetryableError,
    SubmissionUncertain,
    SubmitInputs,
    SubmitOptions,
)
from lipsync_site.providers.catalog import Route
from lipsync_site.providers.registry import get_provider
from lipsync_site.providers.routes import get_route

logger = logging.getLogger(__name__)


# Providers that report the end of a request to a signed webhook, and the URL that takes it.
WEBHOOKS = {"syncso": "jobs:sync_webhook"}


def provider_webhook_url(provider_name: str) -> str:
    name = WEBHOOKS.get(provider_name)
    return settings.PUBLIC_BASE_URL + reverse(name) if name else ""


def provider_input_url(asset: Asset, *, job_id, issued_at: float | None = None) -> str:
    """A public URL a provider can fetch the input from, without cookies, for an hour
    (from ``issued_at`` when given: the same moment gives the same URL)."""
    token = links.make_token(asset, links.Purpose.PROVIDER, job_id=str(job_id), issued_at=issued_at)
    # The file name carries the extension: some providers infer the format from it.
    path = reverse("jobs:input", kwargs={"token": token, "filename": f"input{asset.extension}"})
    return settings.PUBLIC_BASE_URL + path


def submit_job(job_id) -> None:
    """Win the job, hand it to its provider, save the request id first. Never sends twice."""
    job = Job.objects.select_related("source_video", "portrait", "voice").get(pk=job_id)
    if job.status != Status.QUEUED:
        return
    lease = Lease()
    if not _claim(job, lease):
        return
    route = get_route(job.route_id)
    provider = get_provider(route.provider)
    runs_here = route.provider == "local"
    # A provider that dedupes resends compares the whole request: its input links must be
    # the very ones of the first attempt (they expire an hour after it).
    issued_at = _first_submitted_at(job) if getattr(provider, "supports_idempotency_keys", False) else None
    # The engine that runs here reads local scratch copies, removed once it is done.
    scratch = contextlib.ExitStack()
    try:
        inputs = SubmitInputs(
            video=_input_file(job.source_video, job, route, issued_at, scratch),
            image=_input_file(job.portrait, job, route, issued_at, scratch),
            audio=_input_file(job.voice, job, route, issued_at, scratch),
            text=job.script,
            prompt=job.prompt,
        )
        options = SubmitOptions(
            mismatch_mode=job.mismatch_mode,
            idempotency_key=str(job.id),
            extra=dict(job.options),
            on_progress=_progress_reporter(job, lease) if runs_here else None,
            webhook_url=provider_webhook_url(route.provider),
            speaker_box=_speaker_box(job, route),
        )
        # A submit may block for long (a NemoVideo edit streams for up to 15 minutes): the
        # lease is renewed meanwhile, so the sweep does not take a live worker for a dead one.
        with lease.heartbeat(job.pk):
            request_id = provider.submit(route, inputs, options)
    except InputRejected as exc:
        _fail(job, lease, exc.message, kind=EventKind.SUBMIT_REFUSED, actor="provider", payload=exc.payload)
        return
    except AccountProblem as exc:
        # The owner reads that the provider could not take the job; the admin reads why
        # (a token that cannot export, an empty balance) on the event, already redacted.
        logger.error("Provider account problem on job %s: %s", job.pk, exc.message)
        payload = {"detail": exc.message, **exc.payload}
        _fail(job, lease, Say.ACCOUNT_PROBLEM, kind=EventKind.SUBMIT_FAILED, payload=payload)
        return
    except SubmissionUncertain as exc:
        payload = {"detail": exc.message, "idempotency_key": str(job.pk)}
        if resend_is_safe(provider, job) and back_to_queue(
            job,
            lease,
            delay=5.0,
            message="Submission unconfirmed; resending with the same idempotency key.",
            payload=payload,
        ):
            return
        # The request may have reached the provider, and a resend could pay twice: fail
        # visibly for an admin to check with the provider, and release the hold.
        logger.error("Submission of job %s has an unknown outcome (key %s): %s", job.pk, job.pk, exc.message)
        _fail(job, lease, Say.UNKNOWN_SUBMISSION, kind=EventKind.SUBMIT_UNKNOWN, payload=payload)
        return
    except RetryableError as exc:
        # The adapters raise this on submit only when the request never reached the
        # provider (connection refused, 429, 5xx): sending again cannot pay twice.
        if job.submit_attempts < policy.MAX_SUBMIT_ATTEMPTS and back_to_queue(
            job,
            lease,
            delay=exc.delay,
            message=f"Provider busy ({exc.message}); trying again in {exc.delay:.0f} s.",
        ):
            return
        _fail(job, lease, Say.busy(exc.message), kind=EventKind.SUBMIT_FAILED)
        return
    except Exception:
        logger.exception("Submitting job %s failed", job.pk)
        _fail(job, lease, Say.GENERIC_FAILURE, kind=EventKind.SUBMIT_FAILED)
        return
    finally:
        scratch.close()
    _accepted(job, lease, request_id, runs_here=runs_here)


def resend_is_safe(provider, job: Job) -> bool:
    """A submission with an unknown outcome may be sent again only to a provider that
    documents idempotency keys (the key is the job's id), and a bounded number of times."""
    return bool(getattr(provider, "supports_idempotency_keys", False)) and job.submit_attempts < (
        policy.MAX_SUBMIT_ATTEMPTS
    )


def _fail(job: Job, lease: Lease, message: str, *, kind: str, actor: str = "worker", payload=None) -> None:
    settle(job, to=Status.FAILED, why=message, kind=kind, actor=actor, payload=payload, lease=lease)


def _first_submitted_at(job: Job) -> float:
    first = job.events.filter(kind=EventKind.SUBMIT_STARTED).order_by("at").values_list("at", flat=True).first()
    return (first or timezone.now()).timestamp()


def _speaker_box(job: Job, route: Route) -> tuple[float, float, float, float] | None:
    """The face the user chose, for routes whose provider can be told who speaks."""
    box = job.options.get("speaker_box")
    return tuple(box) if box and route.speaker_choice else None


def _input_file(
    asset: Asset | None, job: Job, route: Route, issued_at: float | None, scratch: contextlib.ExitStack
) -> InputFile | None:
    if asset is None:
        return None
    if route.provider == "local":
        path = scratch.enter_context(local_copy(asset))
        return InputFile(path=path, content_type=asset.content_type, duration=asset.duration_seconds)
    return InputFile(
        url=provider_input_url(asset, job_id=job.id, issued_at=issued_at),
        content_type=asset.content_type,
        duration=asset.duration_seconds,
    )


def _progress_reporter(job: Job, lease: Lease):
    """Progress from an engine that runs here: the first report marks the job running;
    every report renews the submit lease, so a long render is not taken for a dead one."""
    state = {"last": 0.0, "running": False}

    def report(fraction: float) -> None:
        now = time.monotonic()
        if not state["running"]:
            with contextlib.suppress(TransitionRefused):
                job.transition(
                    Status.RUNNING,
                    kind=EventKind.RUN_STARTED,
                    actor="worker",
                    message="Rendering on the local draft engine.",
                )
            state["running"] = True
        if now - state["last"] >= 0.5 or fraction >= 1.0:
            state["last"] = now
            lease.held(job.pk).filter(status=Status.RUNNING).update(
                progress=min(1.0, max(0.0, fraction)), lease_expires_at=expiry(timezone.now())
            )

    return report


def _claim(job: Job, lease: Lease) -> bool:
    """queued -> submitting, if the owner's running limit leaves room and no older queued
    job of theirs is waiting ahead of this one."""
    with transaction.atomic():
        if not may_start(job):
            return False  # it waits; a freed slot or the sweep starts it in order
        now = timezone.now()
        route = get_route(job.route_id)
        try:
            job.transition(
                Status.SUBMITTING,
                kind=EventKind.SUBMIT_STARTED,
                actor="worker",
                message="Submitting to the provider.",
                allowed_from={Status.QUEUED},
                **lease.fields(now),
                submit_attempts=F("submit_attempts") + 1,
                deadline_at=now + timedelta(seconds=policy.time_limit_seconds(route)),
                enqueued_at=None,
                next_poll_at=None,
            )
        except TransitionRefused:
            return False  # another worker has it, or it was cancelled
    return True


def back_to_queue(
    job: Job, lease: Lease, *, delay: float, message: str, payload: dict | None = None, lease_expired_before=None
) -> bool:
    """submitting -> queued, for a submission that never reached the provider (no request
    id saved), or one its provider dedupes: tried again after ``delay``, by the sweep or a
    freed slot. ``lease_expired_before``: only if ``lease`` ran out (the sweep)."""
    now = timezone.now()
    guard = lease.holds() & Q(provider_request_id="")
    if lease_expired_before is not None:
        guard &= Q(lease_expires_at__lt=lease_expired_before)
    try:
        job.transition(
            Status.QUEUED,
            kind=EventKind.SUBMIT_REQUEUED,
            actor="worker",
            message=message,
            payload=payload,
            allowed_from={Status.SUBMITTING},
            guard=guard,
            **RELEASED,
            next_poll_at=now + timedelta(seconds=delay),
            # eligible for the sweep as soon as next_poll_at passes
            enqueued_at=now - timedelta(seconds=settings.JOBS_REQUEUE_AFTER_SECONDS),
        )
    except TransitionRefused:
        return False
    return True


def hand_over_to_polling(job: Job, *, kind: str, actor: str, message: str, guard=None) -> bool:
    """submitting -> queued at the provider: the request id is saved, the tracker polls."""
    try:
        job.transition(
            Status.PROVIDER_QUEUED,
            kind=kind,
            actor=actor,
            message=message,
            allowed_from={Status.SUBMITTING},
            guard=guard,
            **RELEASED,
            next_poll_at=timezone.now(),
        )
    except TransitionRefused:
        return False
    return True


def _accepted(job: Job, lease: Lease, request_id: str, *, runs_here: bool) -> None:
    from lipsync_site.jobs.workflow.cancel import cancel_at_provider
    from lipsync_site.jobs.workflow.poll import poll_job

    # The request id before anything else: whatever happens next, the request is known.
    Job.objects.filter(pk=job.pk, provider_request_id="").update(provider_request_id=request_id)
    job.refresh_from_db()
    if job.provider_request_id != request_id:
        logger.error("Job %s got a second request id %s; cancelling it", job.pk, request_id)
        job.log(
            "A second request was accepted for this job; it was cancelled.",
            kind=EventKind.SUBMIT_DUPLICATE,
            actor="worker",
            payload={"request_id": request_id},
        )
        with contextlib.suppress(ProviderError):
            get_provider(job.provider).cancel(request_id)
        return
    job.log(
        f"Provider accepted the request ({job.provider}).",
        kind=EventKind.SUBMIT_ACCEPTED,
        actor="worker",
        payload={"request_id": request_id},
    )
    if job.is_terminal:
        # Our lease expired and the sweep failed the job meanwhile: do not leave the
        # provider working on something nobody pays for.
        logger.error("Job %s was settled while its submission was in flight; cancelling %s", job.pk, request_id)
        cancel_at_provider(job.pk)
        return
    if job.status == Status.SUBMITTING:
        hand_over_to_polling(job, kind=EventKind.SUBMIT_ACCEPTED, actor="worker", message="Queued at the provider.")
    else:  # running already (an engine that runs here reported progress)
        lease.release(job.pk, next_poll_at=timezone.now())
    if runs_here:
        poll_job(job.pk)  # the local engine is done by now: no reason to wait for the tracker
