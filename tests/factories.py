"""Helpers the tests share: uploads as a browser sends them, media stored as intake stores
it, jobs as creation leaves them, and a way to end a job a test is done with."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction

from lipsync_site.consent.services import record_attestation
from lipsync_site.credits.services import place_hold
from lipsync_site.jobs.models import EventKind, Job, Status
from lipsync_site.jobs.workflow.settle import settle
from lipsync_site.media.models import Asset
from lipsync_site.media.services import store_file, store_upload
from lipsync_site.providers.routes import get_route


def upload(path, name=None) -> SimpleUploadedFile:
    """A file as the browser uploads it (no trusted content type: we identify by content)."""
    return SimpleUploadedFile(name or path.name, path.read_bytes(), content_type="application/octet-stream")


def workspace_of(user):
    """The user's first workspace (the personal one the fixtures make)."""
    return user.memberships.select_related("workspace").order_by("joined_at", "pk").first().workspace


def stored(owner, path, kind, workspace=None) -> Asset:
    """A file taken through intake (probed, analysed), as the form would store it."""
    return store_upload(
        owner=owner,
        workspace=workspace or workspace_of(owner),
        upload=SimpleUploadedFile(path.name, path.read_bytes()),
        kind=kind,
    )


def stored_file(owner, path, kind, workspace=None) -> Asset:
    """A file stored as an upload without intake's analysis (fast; for the job engine)."""
    return store_file(
        owner=owner, workspace=workspace or workspace_of(owner), path=path, kind=kind, origin=Asset.Origin.UPLOAD
    )


def make_job(
    owner,
    *,
    video=None,
    voice=None,
    portrait=None,
    route_id="sync-v2",
    seconds=1.0,
    status=Status.QUEUED,
    workspace=None,
) -> Job:
    """A job as ``create_job`` leaves it (attestation, hold, job, first event), straight from
    stored media: engine tests do not depend on the form. It goes to the media's workspace
    (or the owner's first)."""
    route = get_route(route_id)
    media = next((asset for asset in (video, portrait, voice) if asset is not None), None)
    workspace = workspace or (media.workspace if media is not None else workspace_of(owner))
    cost = route.estimate_credits(seconds)
    with transaction.atomic():
        attestation = record_attestation(
            user=owner,
            likeness_consent=True,
            voice_provenance="own",
            person_name="Ada Example",
            media_sha256=[asset.sha256 for asset in (video, portrait, voice) if asset is not None],
            ip_address="127.0.0.1",
            user_agent="tests",
        )
        job = Job(
            workspace=workspace,
            owner=owner,
            shape="portrait_audio" if portrait is not None else "video_audio",
            route_id=route.id,
            provider=route.provider,
            source_video=video,
            portrait=portrait,
            voice=voice,
            attestation=attestation,
            estimated_seconds=seconds,
            estimated_credits=cost,
            status=status,
            title="test job",
        )
        job.hold = place_hold(
            workspace=workspace, member=owner, amount=cost, reference=str(job.id), reason=f"{route.label}, test"
        )
        job.save(force_insert=True)
        job.events.create(
            kind=EventKind.CREATED, from_status="", to_status=status, actor=f"user:{owner.pk}", message="Created."
        )
    return job


def end(job: Job, why: str = "test over"):
    """Fail a job a test is done with, so the ledger check after the test sees it settled."""
    return settle(job, to=Status.FAILED, why=why, kind=EventKind.NOTE, actor="tests")
