"""Uploads checked on the form but never used are removed after a grace period."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.utils import timezone

from lipsync_site.jobs import services
from lipsync_site.media.models import Asset
from lipsync_site.media.services import store_upload
from tests.factories import workspace_of

pytestmark = pytest.mark.django_db


def test_unused_uploads_go_and_used_ones_stay(owner, clip, voice, media_dir, settings):
    from tests import mediafactory

    video = store_upload(
        owner=owner,
        workspace=workspace_of(owner),
        upload=SimpleUploadedFile("clip.mp4", clip.read_bytes()),
        kind="video",
    )
    audio = store_upload(
        owner=owner,
        workspace=workspace_of(owner),
        upload=SimpleUploadedFile("voice.wav", voice.read_bytes()),
        kind="audio",
    )
    services.create_job(
        owner=owner,
        workspace=workspace_of(owner),
        inputs=services.JobInputs(shape="video_audio", route_id="local-draft", source_video=video, voice=audio),
        consent=services.Consent(likeness_consent=True, voice_provenance="own", person_name="Ada"),
    )
    other = mediafactory.make_video(media_dir / "other.mp4", seconds=1.0, width=160, height=120)
    abandoned = store_upload(
        owner=owner,
        workspace=workspace_of(owner),
        upload=SimpleUploadedFile("other.mp4", other.read_bytes()),
        kind="video",
    )
    Asset.objects.update(created_at=timezone.now() - timedelta(days=2))
    abandoned_files = [abandoned.file.name, abandoned.poster.file.name]

    call_command("purge_unused_uploads", "--hours", "24")

    assert not Asset.objects.filter(pk=abandoned.pk).exists()
    assert not any((settings.MEDIA_ROOT / name).exists() for name in abandoned_files)
    assert Asset.objects.filter(pk__in=[video.pk, audio.pk]).count() == 2
    assert video.poster is not None
