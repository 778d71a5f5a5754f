"""Running jobs: submit, poll, collect, cancel, settle. Provider calls happen outside
transactions (they are slow and must not hold database locks)."""

from __future__ import annotations

import contextlib
import logging
import tempfile
import time
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_q.tasks import async_task

from lipsync_site.credits.services import capture_hold, release_hold
from lipsync_site.jobs.models import ACTIVE, Job, Status, TransitionRefused
from lipsync_site.jobs.services.creation import GENERIC_FAILURE, enqueue_submit
from lipsync_site.media import links
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


def enqueue_collect(job: Job) -> None:
    job_id = str(job.id)
    transaction.on_commit(
        lambda: async_task("lipsync_site.jobs.tasks.collect_job", job_id, task_name=f"collect {job_id}")
    )


def fail_job(job: Job, *, message: str, actor: str = "system", payload: dict | None = None) -> bool:
    """Fail a job and release its hold, in one transaction. False if it was already terminal."""
    with transaction.atomic():
        try:
            job.transition(Status.FAILED, actor=actor, message=message, payload=payload, error_message=message)
        except TransitionRefused:
            return False
        release_hold(hold_id=job.hold_id, reason=f"Job failed: {message[:200]}")
    return True


def cancel_job(job: Job, *, actor: str, message: str = "Cancelled by its owner.") -> bool:
    """Cancel a job that has not started at the provider, or one the provider agrees to stop.

    Returns False (and changes nothing) when the provider says it is already running.
    """
    job.refresh_from_db()
    if job.is_terminal:
        return False
    if job.provider_request_id and job.status in {Status.PROVIDER_QUEUED, Status.RUNNING}:
        provider = get_provider(job.provider)
        try:
            if not provider.cancel(job.provider_request_id):
                job.log("Cancel refused: the provider is already working on it.", actor=actor)
                return False
        except ProviderError as exc:
            job.log(f"Cancel failed at the provider: {exc.message}", actor=actor)
            return False
    elif job.status in {Status.SUBMITTING, Status.COLLECTING}:
        return False
    with transaction.atomic():
        try:
            job.transition(Status.CANCELLED, actor=actor, message=message)
        except TransitionRefused:
            return False
        release_hold(hold_id=job.hold_id, reason="Job cancelled")
    return True


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


def _progress_reporter(job: Job):
    """Progress from an engine that runs here: the first report marks the job running."""
    state = {"last": 0.0, "running": False}

    def report(fraction: float) -> None:
        now = time.monotonic()
        if not state["running"]:
            with contextlib.suppress(TransitionRefused):
                job.transition(Status.RUNNING, actor="worker", message="Rendering on the local draft engine.")
            state["running"] = True
        if now - state["last"] >= 0.5 or fraction >= 1.0:
            state["last"] = now
            Job.objects.filter(pk=job.pk, status=Status.RUNNING).update(progress=min(1.0, max(0.0, fraction)))

    return report


def submit_job(job_id) -> None:
    """Win the job, hand it to its provider, save the request id. Never sends twice."""
    job = Job.objects.select_related("source_video", "portrait", "voice").get(pk=job_id)
    try:
        job.transition(Status.SUBMITTING, actor="worker", message="Submitting to the provider.")
    except TransitionRefused:
        return  # another worker has it, or it was cancelled
    route = get_route(job.route_id)
    provider = get_provider(route.provider)
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
        on_progress=_progress_reporter(job) if route.provider == "local" else None,
    )
    try:
        request_id = provider.submit(route, inputs, options)
    except InputRejected as exc:
        fail_job(job, message=exc.message, actor="provider", payload=exc.payload)
        return
    except AccountProblem as exc:
        logger.error("Provider account problem on job %s: %s", job.pk, exc.message)
        fail_job(job, message="The provider could not take this job; our team has been alerted.", payload=exc.payload)
        return
    except SubmissionUncertain as exc:
        logger.error("Submission of job %s has an unknown outcome: %s", job.pk, exc.message)
        fail_job(
            job,
            message="We could not confirm the provider received this job, so we stopped rather than risk paying twice.",
            payload={"detail": exc.message},
        )
        return
    except RetryableError as exc:
        fail_job(job, message=f"The provider is busy or unreachable ({exc.message}). Please try again later.")
        return
    except Exception:
        logger.exception("Submitting job %s failed", job.pk)
        fail_job(job, message=GENERIC_FAILURE)
        return
    saved = Job.objects.filter(pk=job.pk, status__in=[Status.SUBMITTING, Status.RUNNING]).update(
        provider_request_id=request_id, next_poll_at=timezone.now()
    )
    if not saved:
        return
    job.refresh_from_db()
    job.log(f"Provider accepted the request ({route.provider}).", actor="worker", payload={"request_id": request_id})
    if job.status == Status.SUBMITTING:
        try:
            job.transition(Status.PROVIDER_QUEUED, actor="worker", message="Queued at the provider.")
        except TransitionRefused:
            return
    poll_job(job.pk)


def poll_job(job_id) -> None:
    """Ask the provider how a request is doing and move the job along."""
    job = Job.objects.get(pk=job_id)
    if job.status not in {Status.PROVIDER_QUEUED, Status.RUNNING} or not job.provider_request_id:
        return
    provider = get_provider(job.provider)
    now = timezone.now()
    try:
        result = provider.poll(job.provider_request_id)
    except RetryableError as exc:
        Job.objects.filter(pk=job.pk).update(next_poll_at=now + timezone.timedelta(seconds=exc.delay))
        return
    except NotFound as exc:
        fail_job(job, message="The provider no longer knows this request.", payload={"detail": exc.message})
        return
    except ProviderError as exc:
        fail_job(job, message=exc.message, actor="provider", payload=exc.payload)
        return
    Job.objects.filter(pk=job.pk).update(poll_count=job.poll_count + 1)
    if result.state == RequestState.QUEUED:
        Job.objects.filter(pk=job.pk, status=Status.PROVIDER_QUEUED).update(queue_position=result.queue_position)
    elif result.state == RequestState.RUNNING:
        if job.status == Status.PROVIDER_QUEUED:
            try:
                job.transition(
                    Status.RUNNING, actor="provider", message="Running at the provider.", queue_position=None
                )
            except TransitionRefused:
                return
        if result.progress is not None:
            Job.objects.filter(pk=job.pk, status=Status.RUNNING).update(progress=result.progress)
    elif result.state == RequestState.SUCCEEDED:
        with transaction.atomic():
            try:
                job.transition(
                    Status.COLLECTING, actor="provider", message="Finished at the provider; collecting.", progress=1.0
                )
            except TransitionRefused:
                return
            enqueue_collect(job)
    elif result.state == RequestState.FAILED:
        fail_job(
            job,
            message=result.message or "The provider could not produce this video.",
            actor="provider",
            payload=result.payload,
        )
    elif result.state == RequestState.CANCELLED:
        with transaction.atomic():
            try:
                job.transition(Status.CANCELLED, actor="provider", message="Cancelled at the provider.")
            except TransitionRefused:
                return
            release_hold(hold_id=job.hold_id, reason="Job cancelled at the provider")


def collect_job(job_id) -> None:
    """Download, probe and store the output; capture the hold for the actual length."""
    job = Job.objects.get(pk=job_id)
    if job.status != Status.COLLECTING:
        return
    route = get_route(job.route_id)
    provider = get_provider(job.provider)
    try:
        outputs = [output for output in provider.outputs(job.provider_request_id) if output.kind == "video"]
        if not outputs:
            raise InputRejected("The provider finished but returned no video.")
        scratch = Path(settings.VAR_DIR) / "scratch"
        scratch.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=scratch) as workdir:
            target = Path(workdir) / "output.bin"
            provider.download(outputs[0], target, max_bytes=settings.PROVIDER_DOWNLOAD_MAX_BYTES)
            asset = store_file(owner=job.owner, path=target, kind="video", origin=Asset.Origin.OUTPUT, original_name="")
    except MediaRejected as exc:
        fail_job(job, message=f"The provider's output was not a playable video: {exc.message}")
        return
    except RetryableError:
        raise  # the task's retry takes it from here; collecting is safe to repeat
    except ProviderError as exc:
        fail_job(job, message=exc.message, actor="provider", payload=exc.payload)
        return
    charged = min(job.hold.amount, route.estimate_credits(asset.duration_seconds or job.estimated_seconds))
    with transaction.atomic():
        try:
            job.transition(
                Status.SUCCEEDED,
                actor="worker",
                message=f"Output ready ({asset.duration_seconds or 0:.1f} s); {charged} credits charged.",
                output=asset,
                charged_credits=charged,
                progress=1.0,
            )
        except TransitionRefused:
            return
        capture_hold(hold_id=job.hold_id, amount=charged, reason=f"{route.label}, {asset.duration_seconds or 0:.1f} s")


def active_jobs_for(user):
    return Job.objects.filter(owner=user, status__in=list(ACTIVE))


def release_for_review(job: Job, *, actor: str) -> bool:
    """Consent approved: a job waiting for review joins the queue."""
    try:
        job.transition(Status.QUEUED, actor=actor, message="Consent approved by a moderator.")
    except TransitionRefused:
        return False
    enqueue_submit(job)
    return True


def stop_for_rejection(job: Job, *, reason: str, actor: str) -> None:
    """Consent rejected: stop the job wherever it is, return its credits if unsettled,
    and make every signed link to its media and output stop working."""
    from lipsync_site.media.services import revoke_links

    message = f"Consent rejected by a moderator: {reason}"
    if not job.is_terminal:
        target = Status.REJECTED if job.status == Status.AWAITING_REVIEW else Status.CANCELLED
        try:
            job.transition(target, actor=actor, message=message, error_message=message)
        except TransitionRefused:
            pass
        else:
            release_hold(hold_id=job.hold_id, reason="Consent rejected")
            if job.provider_request_id:
                job_id = str(job.id)
                transaction.on_commit(
                    lambda: async_task(
                        "lipsync_site.jobs.tasks.cancel_at_provider", job_id, task_name=f"cancel {job_id}"
                    )
                )
    else:
        job.log(message, actor=actor)
    revoke_links(asset_ids=[asset.pk for asset in (*job.input_assets, job.output, job.poster) if asset is not None])


def cancel_at_provider(job_id) -> None:
    """Best effort: ask the provider to stop a request we no longer want."""
    job = Job.objects.get(pk=job_id)
    if not job.provider_request_id:
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
