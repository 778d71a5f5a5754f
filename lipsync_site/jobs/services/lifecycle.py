"""Running jobs: submit, poll, collect, cancel, settle.

Every step is safe to run twice (django-q2 delivers at least once, and the sweep enqueues
again what the queue may have lost):

- each step first *claims* the job with a guarded update that sets a lease (a token
  unique to this claim, and an expiry); a second delivery finds the lease held or the
  state moved on and does nothing;
- later writes of the step are guarded by the same token, so a holder whose lease expired
  and was taken over cannot overwrite its successor;
- every settlement happens in the transaction of the terminal transition, and the
  ledger's unique constraints refuse a second one.

Provider calls happen outside transactions (they are slow and must not hold row locks).
"""

from __future__ import annotations

import contextlib
import enum
import logging
import os
import socket
import tempfile
import threading
import time
import uuid
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import DatabaseError, connections, transaction
from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.utils import timezone
from django_q.tasks import async_task

from lipsync_site.credits.services import capture_hold, release_hold
from lipsync_site.jobs.models import ACTIVE, TERMINAL, Job, Status, TransitionRefused
from lipsync_site.media import links
from lipsync_site.media.lipsync_check import check_output
from lipsync_site.media.models import Asset
from lipsync_site.media.probe import MediaRejected
from lipsync_site.media.services import store_file
from lipsync_site.providers.base import (
    AccountProblem,
    InputFile,
    InputRejected,
    NotFound,
    ProviderError,
    RequestState,
    RetryableError,
    SubmissionUncertain,
    SubmitInputs,
    SubmitOptions,
)
from lipsync_site.providers.catalog import Route, get_route
from lipsync_site.providers.registry import get_provider

logger = logging.getLogger(__name__)

# States that count against the per-user limit of jobs running at once. Collecting is
# our own download and does not occupy the provider.
RUNNING_STATES = (Status.SUBMITTING, Status.PROVIDER_QUEUED, Status.RUNNING)
POLLED_STATES = (Status.PROVIDER_QUEUED, Status.RUNNING)
# A submission that never reached the provider is tried again, up to this many times.
MAX_SUBMIT_ATTEMPTS = 3
MAX_COLLECT_ATTEMPTS = 5
GENERIC_FAILURE = "Something went wrong on our side while processing this job. Your credits were returned."
UNKNOWN_SUBMISSION = (
    "We could not confirm that the provider received this job, so we stopped rather than risk paying "
    "twice. Your credits were returned; our team will check with the provider."
)


def new_lease_token() -> str:
    """Unique to one claim; says who holds it, for the admin."""
    return f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


def lease_free(now) -> Q:
    return Q(lease_expires_at__isnull=True) | Q(lease_expires_at__lt=now)


def _lease_until(now, seconds: float | None = None):
    return now + timedelta(seconds=seconds if seconds is not None else settings.JOBS_LEASE_SECONDS)


@contextlib.contextmanager
def _lease_heartbeat(job_id, lease: str):
    """Renew ``lease`` every third of its length while the block runs (a long download),
    so a live worker keeps its job and a dead one loses it within one lease."""
    stop = threading.Event()
    every = max(0.2, settings.JOBS_LEASE_SECONDS / 3.0)

    def beat():
        try:
            while not stop.wait(every):
                with contextlib.suppress(DatabaseError):
                    Job.objects.filter(pk=job_id, lease_owner=lease).update(
                        lease_expires_at=_lease_until(timezone.now())
                    )
        finally:
            connections.close_all()  # this thread's own connections

    thread = threading.Thread(target=beat, name=f"lease-{lease[-12:]}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=5)


def time_limit_seconds(route: Route) -> float:
    limit = route.limits.get("max_run_seconds") if route.limits else None
    if limit:
        return float(limit)
    return max(settings.JOBS_TIME_LIMIT_MIN_SECONDS, settings.JOBS_TIME_LIMIT_FACTOR * route.max_duration_seconds)


def poll_interval(age_seconds: float, *, fair_share: float = 0.0) -> float:
    """Seconds until the next poll: 2 s for a young job, growing by a tenth of its age up
    to 30 s; never shorter than the account's fair share of its call budget."""
    low, high = settings.JOBS_POLL_MIN_SECONDS, settings.JOBS_POLL_MAX_SECONDS
    return max(min(high, low + age_seconds / 10.0), fair_share)


# --- enqueueing --------------------------------------------------------------------------
def _enqueue(task: str, job_id: str) -> None:
    """Enqueue after commit (the Redis broker is outside the transaction)."""
    transaction.on_commit(
        lambda: async_task(f"lipsync_site.jobs.tasks.{task}", job_id, task_name=f"{task.split('_')[0]} {job_id}")
    )


def enqueue_collect(job: Job) -> None:
    Job.objects.filter(pk=job.pk).update(enqueued_at=timezone.now())
    _enqueue("collect_job", str(job.pk))


def start_waiting_jobs(owner_id: int, *, stale_before=None) -> int:
    """Enqueue the submit task of the owner's oldest queued jobs, as many as the running
    limit leaves room for. ``stale_before``: only jobs not enqueued since then (the sweep
    passes now minus the requeue delay; a freed slot passes now)."""
    now = timezone.now()
    stale_before = stale_before or now
    running = Job.objects.filter(owner_id=owner_id, status__in=RUNNING_STATES).count()
    room = settings.JOBS_MAX_RUNNING_PER_USER - running
    if room <= 0:
        return 0
    candidates = (
        Job.objects.filter(owner_id=owner_id, status=Status.QUEUED)
        .filter(Q(next_poll_at__isnull=True) | Q(next_poll_at__lte=now))
        .annotate(last_enqueued=Coalesce("enqueued_at", "created_at"))
        .order_by("created_at", "id")
        .values_list("id", "enqueued_at", "last_enqueued")[:room]
    )
    started = 0
    for job_id, enqueued_at, last_enqueued in candidates:
        if last_enqueued >= stale_before:
            continue
        # Guarded, so two sweeps never both enqueue the same job.
        if Job.objects.filter(pk=job_id, status=Status.QUEUED, enqueued_at=enqueued_at).update(enqueued_at=now):
            _enqueue("submit_job", str(job_id))
            started += 1
    return started


def _slot_freed(job: Job) -> None:
    owner_id = job.owner_id
    transaction.on_commit(lambda: start_waiting_jobs(owner_id))


# --- settling ------------------------------------------------------------------------------
def fail_job(
    job: Job,
    *,
    message: str,
    actor: str = "system",
    payload: dict | None = None,
    allowed_from=None,
    lease: str | None = None,
    lease_expired_before=None,
) -> bool:
    """Fail a job and release its hold, in one transaction. False if it had moved on
    (already terminal, or out of ``allowed_from``, or ``lease`` is no longer the holder,
    or, with ``lease_expired_before``, the lease was renewed since)."""
    with transaction.atomic():
        held = Job.objects.filter(pk=job.pk, lease_owner=lease)
        if lease_expired_before is not None:
            held = held.filter(lease_expires_at__lt=lease_expired_before)
        if lease is not None and not held.exists():
            return False
        try:
            job.transition(
                Status.FAILED,
                actor=actor,
                message=message,
                payload=payload,
                allowed_from=allowed_from,
                error_message=message,
                lease_owner="",
                lease_expires_at=None,
            )
        except TransitionRefused:
            return False
        release_hold(hold_id=job.hold_id, reason=f"Job failed: {message[:200]}")
        _slot_freed(job)
    return True


def _cancel_here(job: Job, *, actor: str, message: str, allowed_from=None) -> bool:
    with transaction.atomic():
        try:
            job.transition(
                Status.CANCELLED,
                actor=actor,
                message=message,
                allowed_from=allowed_from,
                lease_owner="",
                lease_expires_at=None,
            )
        except TransitionRefused:
            return False
        release_hold(hold_id=job.hold_id, reason="Job cancelled")
        _slot_freed(job)
    return True


class CancelOutcome(enum.StrEnum):
    CANCELLED = "cancelled"
    RUNNING = "running"  # the provider is already working on it and cannot stop
    BUSY = "busy"  # being handed over or collected right now: nothing to stop
    FINISHED = "finished"  # already in a final state
    UNREACHABLE = "unreachable"  # the provider did not answer the cancel

    @property
    def message(self) -> str:
        return {
            CancelOutcome.CANCELLED: "Job cancelled; its credits were returned.",
            CancelOutcome.RUNNING: "The provider is already rendering this job and cannot stop it now.",
            CancelOutcome.BUSY: "This job is being handed to the provider or collected right now; try again shortly.",
            CancelOutcome.FINISHED: "This job has already finished.",
            CancelOutcome.UNREACHABLE: "The provider did not answer the cancel request; try again shortly.",
        }[self]


def request_cancel(job: Job, *, actor: str, message: str = "Cancelled by its owner.") -> CancelOutcome:
    """Cancel a job that has not started at the provider, or one the provider agrees to
    stop (RunComfy cancels only queued requests). Nothing changes unless it is cancelled."""
    job.refresh_from_db()
    if job.is_terminal:
        return CancelOutcome.FINISHED
    if job.status in {Status.AWAITING_REVIEW, Status.QUEUED}:
        if _cancel_here(job, actor=actor, message=message, allowed_from={Status.AWAITING_REVIEW, Status.QUEUED}):
            return CancelOutcome.CANCELLED
        job.refresh_from_db()
        return CancelOutcome.FINISHED if job.is_terminal else CancelOutcome.BUSY
    if job.status not in POLLED_STATES:
        return CancelOutcome.BUSY
    if not job.provider_request_id:  # an engine running here, inside its submit task
        return CancelOutcome.RUNNING
    try:
        stopped = get_provider(job.provider).cancel(job.provider_request_id)
    except ProviderError as exc:
        job.log(f"Cancel failed at the provider: {exc.message}", actor=actor)
        return CancelOutcome.UNREACHABLE
    if not stopped:
        job.log("Cancel refused: the provider is already working on it.", actor=actor)
        return CancelOutcome.RUNNING
    if _cancel_here(job, actor=actor, message=message, allowed_from=set(POLLED_STATES)):
        return CancelOutcome.CANCELLED
    job.refresh_from_db()
    return CancelOutcome.FINISHED if job.is_terminal else CancelOutcome.BUSY


def cancel_job(job: Job, *, actor: str, message: str = "Cancelled by its owner.") -> bool:
    """``request_cancel`` as a yes/no."""
    return request_cancel(job, actor=actor, message=message) == CancelOutcome.CANCELLED


# --- submit ----------------------------------------------------------------------------------
def _input_file(asset: Asset | None, job: Job, route: Route) -> InputFile | None:
    if asset is None:
        return None
    if route.provider == "local":
        return InputFile(path=Path(asset.file.path), content_type=asset.content_type, duration=asset.duration_seconds)
    return InputFile(
        url=links.provider_url(asset, job_id=str(job.id)),
        content_type=asset.content_type,
        duration=asset.duration_seconds,
    )


def _progress_reporter(job: Job, lease: str):
    """Progress from an engine that runs here: the first report marks the job running;
    every report renews the submit lease, so a long render is not taken for a dead one."""
    state = {"last": 0.0, "running": False}

    def report(fraction: float) -> None:
        now = time.monotonic()
        if not state["running"]:
            with contextlib.suppress(TransitionRefused):
                job.transition(Status.RUNNING, actor="worker", message="Rendering on the local draft engine.")
            state["running"] = True
        if now - state["last"] >= 0.5 or fraction >= 1.0:
            state["last"] = now
            Job.objects.filter(pk=job.pk, status=Status.RUNNING, lease_owner=lease).update(
                progress=min(1.0, max(0.0, fraction)), lease_expires_at=_lease_until(timezone.now())
            )

    return report


def _claim_for_submission(job: Job, lease: str) -> bool:
    """queued -> submitting, if the owner's running limit leaves room and no older queued
    job of theirs is waiting ahead of this one."""
    with transaction.atomic():
        # One owner's claims queue up on their user row, so the limit holds across
        # workers (PostgreSQL; SQLite's IMMEDIATE transactions serialise anyway).
        get_user_model().objects.select_for_update().filter(pk=job.owner_id).values_list("pk").first()
        running = Job.objects.filter(owner_id=job.owner_id, status__in=RUNNING_STATES).count()
        room = settings.JOBS_MAX_RUNNING_PER_USER - running
        ahead = (
            Job.objects.filter(owner_id=job.owner_id, status=Status.QUEUED)
            .filter(Q(created_at__lt=job.created_at) | Q(created_at=job.created_at, id__lt=job.id))
            .count()
        )
        if ahead >= room:
            return False  # it waits; a freed slot or the sweep starts it in order
        now = timezone.now()
        route = get_route(job.route_id)
        try:
            job.transition(
                Status.SUBMITTING,
                actor="worker",
                message="Submitting to the provider.",
                allowed_from={Status.QUEUED},
                lease_owner=lease,
                lease_expires_at=_lease_until(now),
                submit_attempts=F("submit_attempts") + 1,
                deadline_at=now + timedelta(seconds=time_limit_seconds(route)),
                enqueued_at=None,
                next_poll_at=None,
            )
        except TransitionRefused:
            return False  # another worker has it, or it was cancelled
    return True


def _back_to_queue(job: Job, lease: str, *, delay: float, message: str, payload: dict | None = None) -> bool:
    now = timezone.now()
    with transaction.atomic():
        if not Job.objects.filter(pk=job.pk, lease_owner=lease, provider_request_id="").exists():
            return False
        try:
            job.transition(
                Status.QUEUED,
                actor="worker",
                message=message,
                payload=payload,
                allowed_from={Status.SUBMITTING},
                lease_owner="",
                lease_expires_at=None,
                next_poll_at=now + timedelta(seconds=delay),
                # eligible for the sweep as soon as next_poll_at passes
                enqueued_at=now - timedelta(seconds=settings.JOBS_REQUEUE_AFTER_SECONDS),
            )
        except TransitionRefused:
            return False
    return True


def _submission_unknown(job: Job, lease: str, *, detail: str, provider) -> None:
    """The request may have reached the provider. Resend only where the provider dedupes
    by idempotency key; otherwise fail visibly for an admin to check, and release."""
    if getattr(provider, "supports_idempotency_keys", False) and job.submit_attempts < MAX_SUBMIT_ATTEMPTS:
        _back_to_queue(
            job, lease, delay=5.0, message="Submission unconfirmed; resending with the same idempotency key."
        )
        return
    logger.error("Submission of job %s has an unknown outcome (key %s): %s", job.pk, job.pk, detail)
    fail_job(job, message=UNKNOWN_SUBMISSION, payload={"detail": detail, "idempotency_key": str(job.pk)}, lease=lease)


def submit_job(job_id) -> None:
    """Win the job, hand it to its provider, save the request id first. Never sends twice."""
    job = Job.objects.select_related("source_video", "portrait", "voice").get(pk=job_id)
    if job.status != Status.QUEUED:
        return
    lease = new_lease_token()
    if not _claim_for_submission(job, lease):
        return
    route = get_route(job.route_id)
    provider = get_provider(route.provider)
    runs_here = route.provider == "local"
    try:
        inputs = SubmitInputs(
            video=_input_file(job.source_video, job, route),
            image=_input_file(job.portrait, job, route),
            audio=_input_file(job.voice, job, route),
            text=job.script,
            prompt=job.prompt,
        )
        options = SubmitOptions(
            mismatch_mode=job.mismatch_mode,
            idempotency_key=str(job.id),
            extra=dict(job.options),
            on_progress=_progress_reporter(job, lease) if runs_here else None,
        )
        request_id = provider.submit(route, inputs, options)
    except InputRejected as exc:
        fail_job(job, message=exc.message, actor="provider", payload=exc.payload, lease=lease)
        return
    except AccountProblem as exc:
        logger.error("Provider account problem on job %s: %s", job.pk, exc.message)
        fail_job(
            job,
            message="The provider could not take this job; our team has been alerted.",
            payload=exc.payload,
            lease=lease,
        )
        return
    except SubmissionUncertain as exc:
        _submission_unknown(job, lease, detail=exc.message, provider=provider)
        return
    except RetryableError as exc:
        # The adapters raise this on submit only when the request never reached the
        # provider (connection refused, 429, 5xx): sending again cannot pay twice.
        if job.submit_attempts < MAX_SUBMIT_ATTEMPTS and _back_to_queue(
            job, lease, delay=exc.delay, message=f"Provider busy ({exc.message}); trying again in {exc.delay:.0f} s."
        ):
            return
        fail_job(
            job, message=f"The provider is busy or unreachable ({exc.message}). Please try again later.", lease=lease
        )
        return
    except Exception:
        logger.exception("Submitting job %s failed", job.pk)
        fail_job(job, message=GENERIC_FAILURE, lease=lease)
        return
    _accepted(job, lease, request_id, runs_here=runs_here)


def _accepted(job: Job, lease: str, request_id: str, *, runs_here: bool) -> None:
    # The request id before anything else: whatever happens next, the request is known.
    Job.objects.filter(pk=job.pk, provider_request_id="").update(provider_request_id=request_id)
    job.refresh_from_db()
    if job.provider_request_id != request_id:
        logger.error("Job %s got a second request id %s; cancelling it", job.pk, request_id)
        with contextlib.suppress(ProviderError):
            get_provider(job.provider).cancel(request_id)
        return
    job.log(f"Provider accepted the request ({job.provider}).", actor="worker", payload={"request_id": request_id})
    if job.is_terminal:
        # Our lease expired and the sweep failed the job meanwhile: do not leave the
        # provider working on something nobody pays for.
        logger.error("Job %s was settled while its submission was in flight; cancelling %s", job.pk, request_id)
        cancel_at_provider(job.pk)
        return
    now = timezone.now()
    if job.status == Status.SUBMITTING:
        with contextlib.suppress(TransitionRefused):
            job.transition(
                Status.PROVIDER_QUEUED,
                actor="worker",
                message="Queued at the provider.",
                lease_owner="",
                lease_expires_at=None,
                next_poll_at=now,
            )
    else:  # running already (an engine that runs here reported progress)
        Job.objects.filter(pk=job.pk, lease_owner=lease).update(lease_owner="", lease_expires_at=None, next_poll_at=now)
    if runs_here:
        poll_job(job.pk)  # the local engine is done by now: no reason to wait for the tracker


# --- poll ------------------------------------------------------------------------------------
class PollOutcome(enum.StrEnum):
    SKIPPED = "skipped"
    WAITING = "waiting"
    RETRY = "retry"
    COLLECTING = "collecting"
    ENDED = "ended"


def _guard(job: Job, lease: str | None):
    qs = Job.objects.filter(pk=job.pk)
    return qs.filter(lease_owner=lease) if lease else qs


def poll_job(job_id, *, lease: str | None = None, fair_share: float = 0.0) -> PollOutcome:
    """Ask the provider how a request is doing, move the job along, schedule the next poll
    and give up the tracker's ``lease``."""
    job = Job.objects.get(pk=job_id)
    if job.status not in POLLED_STATES or not job.provider_request_id:
        _guard(job, lease).update(lease_owner="", lease_expires_at=None)
        return PollOutcome.SKIPPED
    provider = get_provider(job.provider)
    try:
        result = provider.poll(job.provider_request_id)
    except RetryableError as exc:
        now = timezone.now()
        age = (now - (job.started_at or job.created_at)).total_seconds()
        _guard(job, lease).update(
            next_poll_at=now + timedelta(seconds=max(exc.delay, poll_interval(age, fair_share=fair_share))),
            last_polled_at=now,
            poll_count=F("poll_count") + 1,
            lease_owner="",
            lease_expires_at=None,
        )
        return PollOutcome.RETRY
    except AccountProblem as exc:
        # Our token or account, not this job: every job would fail alike. Keep the job,
        # alert, and let its time limit end it if nobody fixes the account.
        logger.error("Provider account problem while polling job %s: %s", job.pk, exc.message)
        now = timezone.now()
        _guard(job, lease).update(
            next_poll_at=now + timedelta(seconds=settings.JOBS_POLL_MAX_SECONDS * 4),
            lease_owner="",
            lease_expires_at=None,
        )
        return PollOutcome.RETRY
    except NotFound as exc:
        fail_job(job, message="The provider no longer knows this request.", payload={"detail": exc.message})
        return PollOutcome.ENDED
    except ProviderError as exc:
        fail_job(job, message=exc.message, actor="provider", payload=exc.payload)
        return PollOutcome.ENDED
    now = timezone.now()
    age = (now - (job.started_at or job.created_at)).total_seconds()
    progress_fields = {"last_polled_at": now, "poll_count": F("poll_count") + 1}
    if result.state in {RequestState.QUEUED, RequestState.RUNNING}:
        if result.state == RequestState.QUEUED:
            progress_fields["queue_position"] = result.queue_position
        elif job.status == Status.PROVIDER_QUEUED:
            with contextlib.suppress(TransitionRefused):
                job.transition(
                    Status.RUNNING,
                    actor="provider",
                    message="Running at the provider.",
                    payload=result.payload,
                    queue_position=None,
                )
        if result.progress is not None:
            progress_fields["progress"] = min(1.0, max(0.0, result.progress))
        _guard(job, lease).filter(status__in=POLLED_STATES).update(
            **progress_fields,
            next_poll_at=now + timedelta(seconds=poll_interval(age, fair_share=fair_share)),
            lease_owner="",
            lease_expires_at=None,
        )
        return PollOutcome.WAITING
    _guard(job, lease).update(**progress_fields)
    if result.state == RequestState.SUCCEEDED:
        with transaction.atomic():
            try:
                job.transition(
                    Status.COLLECTING,
                    actor="provider",
                    message="Finished at the provider; collecting.",
                    payload=result.payload,
                    allowed_from=set(POLLED_STATES),
                    progress=1.0,
                    queue_position=None,
                    lease_owner="",
                    lease_expires_at=None,
                    collect_attempts=0,
                )
            except TransitionRefused:
                return PollOutcome.SKIPPED
            enqueue_collect(job)
            _slot_freed(job)
        return PollOutcome.COLLECTING
    if result.state == RequestState.FAILED:
        fail_job(
            job,
            message=result.message or "The provider could not produce this video.",
            actor="provider",
            payload=result.payload,
            allowed_from=set(POLLED_STATES),
        )
    elif result.state == RequestState.CANCELLED:
        _cancel_here(job, actor="provider", message="Cancelled at the provider.", allowed_from=set(POLLED_STATES))
    return PollOutcome.ENDED


# --- collect ----------------------------------------------------------------------------------
def _claim_for_collection(job: Job, lease: str) -> bool:
    now = timezone.now()
    return bool(
        Job.objects.filter(pk=job.pk, status=Status.COLLECTING)
        .filter(lease_free(now))
        .update(
            lease_owner=lease,
            lease_expires_at=_lease_until(now),
            collect_attempts=F("collect_attempts") + 1,
            enqueued_at=None,
        )
    )


def collect_job(job_id) -> None:
    """Download, probe and store the output; capture the hold for the actual length
    (never more than was held). Safe to repeat until the job has succeeded."""
    job = Job.objects.select_related("hold").get(pk=job_id)
    if job.status != Status.COLLECTING:
        return
    lease = new_lease_token()
    if not _claim_for_collection(job, lease):
        return  # another worker is collecting it
    job.refresh_from_db()
    if job.collect_attempts > MAX_COLLECT_ATTEMPTS:
        fail_job(job, message="We could not download the provider's output. Your credits were returned.", lease=lease)
        return
    route = get_route(job.route_id)
    provider = get_provider(job.provider)
    try:
        outputs = [output for output in provider.outputs(job.provider_request_id) if output.kind == "video"]
        if not outputs:
            raise InputRejected("The provider finished but returned no video.")
        scratch = Path(settings.VAR_DIR) / "scratch"
        scratch.mkdir(parents=True, exist_ok=True)
        with _lease_heartbeat(job.pk, lease), tempfile.TemporaryDirectory(dir=scratch) as workdir:
            target = Path(workdir) / "output.bin"
            provider.download(outputs[0], target, max_bytes=settings.PROVIDER_DOWNLOAD_MAX_BYTES)
            asset = store_file(owner=job.owner, path=target, kind="video", origin=Asset.Origin.OUTPUT, original_name="")
            check_fields = _output_check(job, target, Path(workdir))
    except MediaRejected as exc:
        fail_job(job, message=f"The provider's output was not a playable video: {exc.message}", lease=lease)
        return
    except RetryableError as exc:
        # Collecting is safe to repeat: give the lease back; the sweep enqueues it again.
        job.log(f"Download interrupted ({exc.message}); will try again.", actor="worker")
        Job.objects.filter(pk=job.pk, lease_owner=lease).update(
            lease_owner="", lease_expires_at=None, enqueued_at=timezone.now()
        )
        return
    except ProviderError as exc:
        fail_job(job, message=exc.message, actor="provider", payload=exc.payload, lease=lease)
        return
    seconds = asset.duration_seconds or job.estimated_seconds
    charged = min(job.hold.amount, route.estimate_credits(seconds))
    with transaction.atomic():
        if not Job.objects.filter(pk=job.pk, lease_owner=lease).exists():
            return  # taken over while we downloaded; the successor settles
        try:
            job.transition(
                Status.SUCCEEDED,
                actor="worker",
                message=f"Output ready ({seconds:.1f} s); {charged} credits charged.",
                allowed_from={Status.COLLECTING},
                output=asset,
                charged_credits=charged,
                progress=1.0,
                lease_owner="",
                lease_expires_at=None,
                **check_fields,
            )
        except TransitionRefused:
            return
        capture_hold(hold_id=job.hold_id, amount=charged, reason=f"{route.label}, {seconds:.1f} s")
        if check_fields.get("mouth_moving") is False:
            job.log(
                f"Output check: the mouth may not be moving (score {check_fields['lipsync_score']:.2f}).",
                actor="worker",
            )


def _output_check(job: Job, video: Path, workdir: Path) -> dict:
    """Does the mouth follow the voice? Score, drift and poster for the job row.

    A check that cannot run must not cost the user their output: it is logged and skipped.
    """
    try:
        voice = Path(job.voice.file.path) if job.voice_id else None
        check = check_output(video, voice)
        fields = {
            "lipsync_score": check.score if check.face_found else 0.0,
            "mouth_moving": check.mouth_moving,
            "duration_drift_seconds": check.drift_seconds,
        }
        if check.poster_jpeg:
            poster_path = workdir / "poster.jpg"
            poster_path.write_bytes(check.poster_jpeg)
            fields["poster"] = store_file(
                owner=job.owner, path=poster_path, kind="image", origin=Asset.Origin.DERIVED, original_name=""
            )
        return fields
    except Exception:
        logger.exception("Output check of job %s failed", job.pk)
        return {}


# --- review and moderation ------------------------------------------------------------------
def active_jobs_for(user):
    return Job.objects.filter(owner=user, status__in=list(ACTIVE))


def release_for_review(job: Job, *, actor: str) -> bool:
    """Consent approved: a job waiting for review joins the queue."""
    try:
        job.transition(Status.QUEUED, actor=actor, message="Consent approved by a moderator.")
    except TransitionRefused:
        return False
    Job.objects.filter(pk=job.pk).update(enqueued_at=timezone.now())
    _enqueue("submit_job", str(job.pk))
    return True


def stop_for_rejection(job: Job, *, reason: str, actor: str) -> None:
    """Consent rejected: stop the job wherever it is, return its credits if unsettled,
    and make every signed link to its media and output stop working."""
    from lipsync_site.media.services import revoke_links

    message = f"Consent rejected by a moderator: {reason}"
    job.refresh_from_db()
    if not job.is_terminal:
        target = Status.REJECTED if job.status == Status.AWAITING_REVIEW else Status.CANCELLED
        with transaction.atomic():
            try:
                job.transition(
                    target, actor=actor, message=message, error_message=message, lease_owner="", lease_expires_at=None
                )
            except TransitionRefused:
                pass
            else:
                release_hold(hold_id=job.hold_id, reason="Consent rejected")
                _slot_freed(job)
                if job.provider_request_id:
                    _enqueue("cancel_at_provider", str(job.id))
    else:
        job.log(message, actor=actor)
    revoke_links(asset_ids=[asset.pk for asset in (*job.input_assets, job.output, job.poster) if asset is not None])


def cancel_at_provider(job_id) -> None:
    """Best effort: ask the provider to stop a request we no longer want."""
    job = Job.objects.get(pk=job_id)
    if not job.provider_request_id or job.status not in TERMINAL:
        return
    try:
        stopped = get_provider(job.provider).cancel(job.provider_request_id)
    except ProviderError as exc:
        job.log(f"Could not cancel at the provider: {exc.message}")
        return
    job.log(
        "Cancelled at the provider."
        if stopped
        else "The provider was already running it; its output will be discarded."
    )
