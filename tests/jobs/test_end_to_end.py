"""The whole path through the real stack: form, database, django-q2 (sync mode), local
provider, polled partial, signed download. The tests that store media run twice: with the
filesystem storage and with S3 storage on a loopback S3 server (moto's)."""

import re

import httpx
import pytest
from django.core.files.base import ContentFile
from django.urls import reverse

from lipsync_site.credits.models import CreditAccount, Hold, LedgerEntry
from lipsync_site.jobs.models import Job, Status
from lipsync_site.media.models import Asset
from tests.conftest import _user as make_user
from tests.factories import upload, workspace_of

pytestmark = pytest.mark.django_db


def form_data(clip, voice, **overrides):
    data = {
        "shape": "video_audio",
        "source_video": upload(clip),
        "voice_audio": upload(voice),
        "route": "local-draft",
        "mismatch_mode": "loop",
        "person_name": "Ada Example",
        "likeness_consent": "on",
        "voice_provenance": "own",
        "no_misuse": "on",
        "confirm_no_face": "on",  # the generated clip is a test pattern, not a face
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def test_job_runs_from_form_to_signed_download(
    owner_client, owner, clip, voice, sync_tasks, django_capture_on_commit_callbacks, media_storage, settings
):
    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(reverse("jobs:new"), form_data(clip, voice))
    assert response.status_code == 302
    job = Job.objects.get(owner=owner)
    assert response["Location"] == reverse("jobs:detail", args=[job.id])

    assert job.status == Status.SUCCEEDED, job.events.values_list("message", flat=True)
    assert [e.to_status for e in job.events.all()][:1] == ["queued"]
    assert job.output.kind == "video" and job.output.video_codec == "h264" and job.output.audio_codec == "aac"
    assert abs(job.output.duration_seconds - 2.0) < 0.1
    assert job.hold.status == Hold.Status.CAPTURED
    assert job.charged_credits == job.estimated_credits == 5  # local draft: 1 credit/s, minimum 5
    assert CreditAccount.objects.get(workspace=workspace_of(owner)).balance == 995

    page = owner_client.get(reverse("jobs:detail", args=[job.id]))
    assert page.status_code == 200
    partial = owner_client.get(reverse("jobs:status", args=[job.id]), headers={"HX-Request": "true"})
    assert partial.status_code == 286  # htmx swaps it in and stops polling
    html = partial.content.decode()
    assert 'id="result-player"' in html and "<html" not in html
    # The test clip has no face: the output check says the mouth may not be moving.
    assert job.mouth_moving is False and job.lipsync_score == 0.0
    assert 'data-check="not-moving"' in html and "Watch this video before you use it" in html
    assert "no face was found in the output" in html
    assert job.poster is not None and job.poster.kind == "image"
    download = re.search(r'id="download-link" href="([^"]+)"', html).group(1)

    stored = job.output.file.open("rb").read()
    response = owner_client.get(download)
    if media_storage.name == "filesystem":
        assert response.status_code == 200
        assert response["Content-Disposition"].startswith("attachment")
        assert response["X-Content-Type-Options"] == "nosniff"
        assert b"".join(response.streaming_content) == stored
    else:
        # The bucket serves the bytes through a short-lived presigned URL, as an attachment.
        assert response.status_code == 302 and response["Cache-Control"] == "private, no-store"
        fetched = httpx.get(response["Location"], trust_env=False)
        assert fetched.status_code == 200 and fetched.content == stored
        assert fetched.headers["content-disposition"].startswith("attachment")
        assert fetched.headers["content-type"] == "video/mp4"
    # Every stored file is an asset or the engine's own record; no scratch copy is left.
    assert set(media_storage.names()) >= {asset.file.name for asset in Asset.objects.all()}
    assert not [path for path in (settings.VAR_DIR / "scratch").rglob("*") if path.is_file()]


def test_status_partial_polls_while_job_is_active(owner_client, owner, clip, voice):
    owner_client.post(reverse("jobs:new"), form_data(clip, voice))  # on_commit never fires: stays queued
    job = Job.objects.get(owner=owner)
    response = owner_client.get(reverse("jobs:status", args=[job.id]), headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert "hx-trigger=\"every 2s [document.visibilityState === 'visible']\"" in response.content.decode()
    assert response["Vary"] and "HX-Request" in response["Vary"]


def test_missing_consent_stores_nothing(owner_client, owner, clip, voice):
    response = owner_client.post(
        reverse("jobs:new"), form_data(clip, voice, likeness_consent=None, voice_provenance=None)
    )
    assert response.status_code == 400
    content = response.content.decode()
    assert "agreed to this use of their likeness" in content
    assert "whose voice this is" in content
    assert not Job.objects.exists() and not Asset.objects.exists()


def test_non_media_upload_is_refused_and_leaves_nothing(owner_client, owner, clip, media_dir, media_storage):
    fake = media_dir / "voice.mp3"
    fake.write_text("just some text pretending to be audio\n")
    response = owner_client.post(reverse("jobs:new"), form_data(clip, fake))
    assert response.status_code == 400
    assert "This is a text file, not media." in response.content.decode()
    assert not Job.objects.exists() and not Asset.objects.exists()
    assert not media_storage.names()
    assert CreditAccount.objects.get(workspace=workspace_of(owner)).balance == 1000


def test_audio_in_the_video_slot_is_refused(owner_client, owner, voice):
    response = owner_client.post(reverse("jobs:new"), form_data(voice, voice))
    assert "no video stream" in response.content.decode()
    assert not Job.objects.exists()


def test_insufficient_credits_is_a_form_error_without_job_or_hold(client, clip, voice, media_storage, db):

    from lipsync_site.credits.services import grant_credits

    poor = make_user("poor")
    grant_credits(workspace=workspace_of(poor), amount=3, reason="test")
    client.force_login(poor)
    response = client.post(reverse("jobs:new"), form_data(clip, voice))
    assert response.status_code == 400
    assert "needs 5 credits and the workspace has 3" in response.content.decode()
    assert not Job.objects.exists() and not Hold.objects.exists()
    assert not Asset.objects.exists()
    assert not media_storage.names()
    assert LedgerEntry.objects.filter(account__workspace=workspace_of(poor)).count() == 1


def test_failed_render_releases_the_hold(
    owner_client, owner, clip, voice, sync_tasks, django_capture_on_commit_callbacks, media_storage
):
    with django_capture_on_commit_callbacks() as callbacks:
        owner_client.post(reverse("jobs:new"), form_data(clip, voice))
    job = Job.objects.get(owner=owner)
    # The stored source is damaged between intake and the worker (a storage fault).
    stored = job.source_video.file
    with stored.open("rb") as fh:
        head = fh.read(64)
    stored.storage.delete(stored.name)
    assert stored.storage.save(stored.name, ContentFile(head)) == stored.name
    with django_capture_on_commit_callbacks(execute=True):
        for callback in callbacks:
            callback()
    job.refresh_from_db()
    assert job.status == Status.FAILED
    assert "could not be decoded" in job.error_message
    assert job.hold.status == Hold.Status.RELEASED
    assert CreditAccount.objects.get(workspace=workspace_of(owner)).balance == 1000
