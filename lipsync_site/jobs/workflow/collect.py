"""Collect: download, probe and store the output, check that the mouth moves with the
voice, and capture the hold for the actual length (never more than was held). Safe to
repeat until the job has succeeded.

A transient answer (429, 5xx, a timeout, a cut download) is retried, as polling is: with
backoff that obeys ``Retry-After``, in the worker for up to ``COLLECT_WAIT_IN_WORKER``
seconds, then by giving the job back for the sweep to enqueue after the delay. Only the
collection window (``deadline_at``, set when collecting began) or a permanent answer
fails the job: the output exists and was paid for."""

from __future__ import annotations

import logging
import time
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db.models import F
from django.utils import timezone

from lipsync_site.jobs.models import EventKind, Job, Status
from lipsync_site.jobs.workflow import policy
from lipsync_site.jobs.workflow.leases import Lease
from lipsync_site.jobs.workflow.policy import Say
from lipsync_site.jobs.workflow.settle import settle
from lipsync_site.media import lipsync_check
from lipsync_site.media.lipsync_check import check_output
from lipsync_site.media.models import Asset
from lipsync_site.media.probe import MediaRejected
from lipsync_site.media.scratch import local_copies, scratch_dir
from lipsync_site.media.services import store_file
from lipsync_site.providers.base import InputRejected, ProviderError, RetryableError
from lipsync_site.providers.registry import get_provider
from lipsync_site.providers.routes import get_route

logger = logging.getLogger(__name__)


def collect_job(job_id) -> None:
    job = Job.objects.select_related("hold").get(pk=job_id)
    if job.status != Status.COLLECTING:
        return
    lease = Lease()
    if not lease.claim(
        Job.objects.filter(pk=job.pk, status=Status.COLLECTING),
        collect_attempts=F("collect_attempts") + 1,
        enqueued_at=None,
    ):
        return  # another worker is collecting it
    job.refresh_from_db()
    if job.collect_attempts > policy.MAX_COLLECT_ATTEMPTS:
        _fail(job, lease, Say.NOT_COLLECTED)
        return
    route = get_route(job.route_id)
    provider = get_provider(job.provider)
    waited, failures = 0.0, 0
    while True:
        try:
            asset, check_fields = _fetch(job, lease, provider)
            break
        except MediaRejected as exc:
            _fail(job, lease, Say.unplayable(exc.message))
            return
        except RetryableError as exc:
            failures += 1
            # The provider's Retry-After (or the adapter's delay), growing while it repeats.
            delay = min(60.0, exc.delay * 1.5 ** (failures - 1))
            now = timezone.now()
            if job.deadline_at is not None and now + timedelta(seconds=delay) >= job.deadline_at:
                _fail(job, lease, Say.NOT_COLLECTED, payload={"detail": exc.message})
                return
            job.log(
                f"Download interrupted ({exc.message}); trying again in {delay:.0f} s.",
                kind=EventKind.COLLECT_RETRY,
                actor="worker",
            )
            if waited + delay <= policy.COLLECT_WAIT_IN_WORKER:
                with lease.heartbeat(job.pk):
                    time.sleep(delay)
                waited += delay
                continue
            # Give the job back; the sweep enqueues it once the delay has passed. A
            # transient answer does not use up one of the attempts (those count crashes).
            lease.release(
                job.pk,
                enqueued_at=now - timedelta(seconds=settings.JOBS_REQUEUE_AFTER_SECONDS - delay),
                collect_attempts=F("collect_attempts") - 1,
            )
            return
        except ProviderError as exc:
            _fail(job, lease, exc.message, actor="provider", payload=exc.payload)
            return
    seconds = asset.duration_seconds or job.estimated_seconds
    charged = min(job.hold.amount, route.estimate_credits(seconds))
    delivered = settle(
        job,
        to=Status.SUCCEEDED,
        why=f"Output ready ({seconds:.1f} s); {charged} credits charged.",
        kind=EventKind.COLLECT_SUCCEEDED,
        actor="worker",
        charge=charged,
        receipt=f"{route.name_on_record}, {seconds:.1f} s",
        allowed_from={Status.COLLECTING},
        lease=lease,  # taken over while we downloaded: the successor settles
        output=asset,
        progress=1.0,
        **check_fields,
    )
    if delivered and (flagged := _flagged(check_fields)):
        job.log(f"Output check: {flagged}.", kind=EventKind.CHECK_FLAGGED, actor="worker")


def _fetch(job: Job, lease: Lease, provider) -> tuple[Asset, dict]:
    """The output's links, the download, the stored asset and its check."""
    outputs = [output for output in provider.outputs(job.provider_request_id) if output.kind == "video"]
    if not outputs:
        raise InputRejected(Say.NO_VIDEO)
    with lease.heartbeat(job.pk), scratch_dir() as workdir:
        target = workdir / "output.bin"
        provider.download(outputs[0], target, max_bytes=settings.PROVIDER_DOWNLOAD_MAX_BYTES)
        asset = store_file(
            owner=job.owner,
            workspace=job.workspace,
            path=target,
            kind="video",
            origin=Asset.Origin.OUTPUT,
            original_name="",
        )
        return asset, _output_check(job, target, workdir)


def _fail(job: Job, lease: Lease, message: str, *, actor: str = "worker", payload=None) -> None:
    settle(job, to=Status.FAILED, why=message, kind=EventKind.COLLECT_FAILED, actor=actor, payload=payload, lease=lease)


def _output_check(job: Job, video: Path, workdir: Path) -> dict:
    """Does the mouth follow the voice, in time, for as long as the voice lasts? Score,
    offset, drift, the faces seen and a poster, for the job row. The face checked is the
    one the user chose as the speaker, when they chose.

    A check that cannot run must not cost the user their output: it is logged and skipped.
    """
    try:
        with local_copies(job.voice if job.voice_id else None) as (voice,):
            check = check_output(video, voice, speaker=job.options.get("speaker_box"))
        fields = {
            "lipsync_score": check.score if check.face_found else 0.0,
            "mouth_moving": check.mouth_moving,
            "duration_drift_seconds": check.drift_seconds,
            "lipsync_offset_ms": check.offset_ms,
            "lipsync_details": {
                "face_found": check.face_found,
                "face_share": check.face_share,
                "faces": [
                    {"index": face.index, "box": list(face.box), "checked": face.checked} for face in check.faces
                ],
                "video_seconds": check.video_seconds,
                "sound_seconds": check.sound_seconds,
                "voice_seconds": check.voice_seconds,
                "sound_outlasts_picture": check.sound_outlasts_picture,
                "problems": check.problems,
            },
        }
        if check.poster_jpeg:
            poster_path = workdir / "poster.jpg"
            poster_path.write_bytes(check.poster_jpeg)
            fields["poster"] = store_file(
                owner=job.owner,
                workspace=job.workspace,
                path=poster_path,
                kind="image",
                origin=Asset.Origin.DERIVED,
                original_name="",
            )
        return fields
    except Exception:
        logger.exception("Output check of job %s failed", job.pk)
        return {}


def _flagged(fields: dict) -> str:
    """What the check flags, as one line for the job's history ("" when nothing)."""
    details = fields.get("lipsync_details") or {}
    problems = details.get("problems") or []
    if not problems:
        return ""
    words = lipsync_check.in_words(
        face_found=details.get("face_found", True),
        score=fields.get("lipsync_score"),
        offset_ms=fields.get("lipsync_offset_ms"),
        drift_seconds=fields.get("duration_drift_seconds"),
        sound_outlasts_picture=details.get("sound_outlasts_picture", True),
    )
    return f"{'; '.join(words)} (score {fields.get('lipsync_score') or 0:.2f})"
