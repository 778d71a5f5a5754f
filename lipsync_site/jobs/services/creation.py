"""Creating jobs: uploads stored, consent recorded, credits held, in one request."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from django.db import transaction
from django_q.tasks import async_task

from lipsync_site.consent.services import record_attestation, review_required_before_running
from lipsync_site.credits.services import place_hold
from lipsync_site.jobs.models import Job, Status
from lipsync_site.media.models import Asset
from lipsync_site.media.probe import MediaRejected
from lipsync_site.media.render import output_seconds
from lipsync_site.media.services import discard_new_files, store_upload
from lipsync_site.providers.catalog import InputShape, get_route

logger = logging.getLogger(__name__)

GENERIC_FAILURE = "Something went wrong on our side while processing this job. Your credits were returned."


@dataclass
class Consent:
    likeness_consent: bool
    voice_provenance: str
    person_name: str
    speaker_name: str = ""
    public_figure: bool = False
    ip_address: str | None = None
    user_agent: str = ""


@dataclass
class JobInputs:
    shape: str
    route_id: str
    source_video: object = None  # UploadedFile or Asset
    portrait: object = None
    voice: object = None
    script: str = ""
    prompt: str = ""
    mismatch_mode: str = "cut_off"
    options: dict = field(default_factory=dict)


def estimate_seconds(
    *, shape: str, video: Asset | None, voice: Asset | None, mismatch_mode: str, options: dict
) -> float:
    """The output length the price is based on, from the probed inputs."""
    if shape == InputShape.VIDEO_AUDIO and video and voice:
        return output_seconds(video.duration_seconds or 0.0, voice.duration_seconds or 0.0, mismatch_mode)
    if voice is not None and voice.duration_seconds:
        return voice.duration_seconds
    if video is not None and video.duration_seconds:
        return video.duration_seconds
    return float(options.get("duration", 5))


def _store(owner, item, kind: str, stored: list) -> Asset | None:
    if item is None or isinstance(item, Asset):
        return item
    asset = store_upload(owner=owner, upload=item, kind=kind)
    stored.append(asset)
    return asset


def create_job(*, owner, inputs: JobInputs, consent: Consent) -> Job:
    """Store the uploads, record the attestation, hold the credits and create the job.

    The attestation, hold, job and first event are one transaction; the submit task is
    enqueued when it commits. If anything fails, files stored for this request are
    removed again, so a refused request leaves nothing behind.
    Raises MediaRejected, InsufficientCredits, ConsentMissing.
    """
    route = get_route(inputs.route_id)
    stored: list[Asset] = []
    try:
        video = _store(owner, inputs.source_video, "video", stored)
        portrait = _store(owner, inputs.portrait, "image", stored)
        voice = _store(owner, inputs.voice, "audio", stored)
        seconds = estimate_seconds(
            shape=inputs.shape, video=video, voice=voice, mismatch_mode=inputs.mismatch_mode, options=inputs.options
        )
        if seconds > route.max_duration_seconds:
            limit = route.max_duration_seconds
            raise MediaRejected(f"The output would last {seconds:.0f} s; {route.label} takes at most {limit:.0f} s.")
        cost = route.estimate_credits(seconds)
        with transaction.atomic():
            attestation = record_attestation(
                user=owner,
                likeness_consent=consent.likeness_consent,
                voice_provenance=consent.voice_provenance,
                person_name=consent.person_name,
                speaker_name=consent.speaker_name,
                public_figure=consent.public_figure,
                media_sha256=[asset.sha256 for asset in (video, portrait, voice) if asset],
                ip_address=consent.ip_address,
                user_agent=consent.user_agent,
            )
            job = Job(
                owner=owner,
                shape=inputs.shape,
                route_id=route.id,
                provider=route.provider,
                source_video=video,
                portrait=portrait,
                voice=voice,
                script=inputs.script,
                prompt=inputs.prompt,
                mismatch_mode=inputs.mismatch_mode,
                options=inputs.options,
                attestation=attestation,
                estimated_seconds=seconds,
                estimated_credits=cost,
                title=(
                    (video or portrait or voice).display_name if (video or portrait or voice) else inputs.prompt[:60]
                ),
            )
            job.hold = place_hold(
                user=owner, amount=cost, reference=str(job.id), reason=f"{route.label}, {seconds:.1f} s"
            )
            waits = review_required_before_running(attestation)
            job.status = Status.AWAITING_REVIEW if waits else Status.QUEUED
            job.save(force_insert=True)
            job.events.create(
                from_status="",
                to_status=job.status,
                actor=f"user:{owner.pk}",
                message=(
                    f"Created on {route.label}; {cost} credits held."
                    + (" Waiting for a moderator to review consent." if waits else "")
                ),
            )
            if not waits:
                enqueue_submit(job)
    except BaseException:
        discard_new_files(stored)
        for asset in stored:
            if getattr(asset, "newly_stored", False):
                Asset.objects.filter(pk=asset.pk).delete()
        raise
    return job


def enqueue_submit(job: Job) -> None:
    job_id = str(job.id)
    transaction.on_commit(
        lambda: async_task("lipsync_site.jobs.tasks.submit_job", job_id, task_name=f"submit {job_id}")
    )
