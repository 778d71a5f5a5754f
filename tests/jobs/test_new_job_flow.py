"""The new-job form in steps: shape, check (store + preflight + routes + cost), start."""

import re

import pytest
from django.urls import reverse

from lipsync_site.consent.models import Attestation
from lipsync_site.credits.models import CreditAccount, Hold
from lipsync_site.jobs.models import Job, Status
from lipsync_site.media.models import Asset
from tests import mediafactory
from tests.conftest import _user as make_user
from tests.factories import upload, workspace_of

pytestmark = pytest.mark.django_db

HX = {"HX-Request": "true"}


def consent(**overrides):
    data = {
        "person_name": "Ada Example",
        "likeness_consent": "on",
        "voice_provenance": "own",
        "public_figure": "no",
        "no_misuse": "on",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


@pytest.fixture
def face_clip(media_dir):
    return mediafactory.make_video(
        media_dir / "face.mp4", seconds=2.0, width=512, height=512, picture=mediafactory.astronaut()
    )


@pytest.fixture
def face_portrait(media_dir):
    return mediafactory.make_image(media_dir / "face.png", picture=mediafactory.astronaut())


def hidden(html, name):
    return re.findall(rf'name="{name}" value="([^"]+)"', html)


def test_get_shows_only_the_fields_of_the_shape(owner_client):
    html = owner_client.get(reverse("jobs:new") + "?shape=portrait_audio").content.decode()
    assert 'name="portrait"' in html and 'name="voice_audio"' in html
    assert 'name="source_video"' not in html and 'name="script"' not in html
    html = owner_client.get(reverse("jobs:new") + "?shape=video_script").content.decode()
    assert 'name="source_video"' in html and 'name="script"' in html and 'name="voice_audio"' not in html


def test_shape_step_swaps_the_form_for_htmx(owner_client):
    response = owner_client.post(reverse("jobs:new"), {"shape": "script", "step": "shape"}, headers=HX)
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith("<form") and "<html" not in html
    from lipsync_site.providers.routes import available_routes

    if not available_routes("script"):
        assert "Script-only needs a cloud route" in html
    assert 'name="script"' in html and 'name="source_video"' not in html
    assert 'id="start-job" disabled' in html.replace("\n", " ").replace("  ", " ") or "disabled" in html


def test_check_stores_media_and_shows_preflight_routes_and_cost(owner_client, owner, face_clip, voice):
    response = owner_client.post(
        reverse("jobs:new"),
        {"shape": "video_audio", "step": "check", "source_video": upload(face_clip), "voice_audio": upload(voice)},
        headers=HX,
    )
    html = response.content.decode()
    assert response.status_code == 200
    video = Asset.objects.get(owner=owner, kind="video", origin="upload")
    assert hidden(html, "video_asset") == [str(video.pk)]
    assert len(hidden(html, "voice_assets")) == 1
    assert 'data-code="face" data-level="pass"' in html
    assert 'data-code="audio_level" data-level="pass"' in html
    assert 'data-route="local-draft" data-fits="yes"' in html
    assert re.search(r'value="local-draft"[^>]*>\s*<span>Local draft.*?<strong>5 credits</strong>', html, re.S)
    assert re.search(r"Start: hold \d+ credits", html)  # the suggested route's cost
    # The poster frame was made at intake, as a derived asset.
    assert video.poster is not None and video.poster.content_type == "image/jpeg"
    # Nothing is held before the user confirms.
    assert not Hold.objects.exists() and not Job.objects.exists()


def test_start_from_checked_media_creates_the_job_without_uploading_again(owner_client, owner, face_clip, voice):
    check = owner_client.post(
        reverse("jobs:new"),
        {"shape": "video_audio", "step": "check", "source_video": upload(face_clip), "voice_audio": upload(voice)},
    ).content.decode()
    data = {
        "shape": "video_audio",
        "step": "start",
        "video_asset": hidden(check, "video_asset"),
        "voice_assets": hidden(check, "voice_assets"),
        "route": "local-draft",
        "mismatch_mode": "loop",
        **consent(),
    }
    response = owner_client.post(reverse("jobs:new"), data)
    job = Job.objects.get(owner=owner)
    assert response.status_code == 302 and response["Location"] == reverse("jobs:detail", args=[job.id])
    assert job.poster == job.source_video.poster
    assert set(job.attestation.media_sha256) == {job.source_video.sha256, job.voice.sha256}
    assert job.attestation.answers["no_misuse"] is True
    assert job.attestation.text_version == "2026-12-v4"
    assert "public figure" in job.attestation.text_shown


def test_no_face_blocks_until_the_user_confirms(owner_client, owner, clip, voice):
    data = {"shape": "video_audio", "source_video": upload(clip), "voice_audio": upload(voice)}
    html = owner_client.post(reverse("jobs:new"), {**data, "step": "check"}).content.decode()
    assert 'data-code="face" data-level="block"' in html
    assert "No face found in the video" in html
    assert 'name="confirm_no_face"' in html and "disabled" in html
    ids = {"video_asset": hidden(html, "video_asset"), "voice_assets": hidden(html, "voice_assets")}
    response = owner_client.post(reverse("jobs:new"), {"shape": "video_audio", "step": "start", **ids, **consent()})
    assert response.status_code == 400 and "No face found" in response.content.decode()
    assert not Job.objects.exists()
    response = owner_client.post(
        reverse("jobs:new"), {"shape": "video_audio", "step": "start", "confirm_no_face": "on", **ids, **consent()}
    )
    assert response.status_code == 302
    assert Job.objects.count() == 1


def test_mismatched_lengths_warn_and_offer_the_modes(owner_client, face_clip, media_dir):
    long_voice = mediafactory.make_audio(media_dir / "long.wav", seconds=3.0)
    html = owner_client.post(
        reverse("jobs:new"),
        {"shape": "video_audio", "step": "check", "source_video": upload(face_clip), "voice_audio": upload(long_voice)},
    ).content.decode()
    assert 'data-code="mismatch" data-level="warn"' in html
    for mode in ("cut_off", "loop", "bounce", "silence", "remap"):
        assert f'value="{mode}"' in html
    # The local draft remaps itself (1.5x here: within half and double speed).
    ids = {"video_asset": hidden(html, "video_asset"), "voice_assets": hidden(html, "voice_assets")}
    html = owner_client.post(
        reverse("jobs:new"), {"shape": "video_audio", "step": "check", "mismatch_mode": "remap", **ids}
    ).content.decode()
    assert 'data-route="local-draft" data-fits="yes"' in html
    assert "Local draft cannot remap" not in html


def test_portrait_batch_of_three_voices_makes_three_jobs_with_their_own_holds_and_attestations(
    owner_client, owner, face_portrait, media_dir
):
    voices = [
        mediafactory.make_audio(media_dir / f"{lang}.wav", seconds=seconds, freq=freq)
        for lang, seconds, freq in (("en", 4.0, 200), ("fr", 6.0, 230), ("de", 8.0, 260))
    ]
    check = owner_client.post(
        reverse("jobs:new"),
        {
            "shape": "portrait_audio",
            "step": "check",
            "portrait": upload(face_portrait),
            "voice_audio": [upload(v) for v in voices],
        },
    ).content.decode()
    assert len(hidden(check, "voice_assets")) == 3
    assert "19 credits" in check and "(5 + 6 + 8)" in check  # 4 s at the 5-credit minimum, 6 s, 8 s
    assert 'name="speaker_name_3"' in check
    response = owner_client.post(
        reverse("jobs:new"),
        {
            "shape": "portrait_audio",
            "step": "start",
            "portrait_asset": hidden(check, "portrait_asset"),
            "voice_assets": hidden(check, "voice_assets"),
            "route": "local-draft",
            "speaker_name_1": "Ann (EN)",
            "speaker_name_2": "Bea (FR)",
            "speaker_name_3": "Cem (DE)",
            "voice_provenance_3": "licensed",
            **consent(),
        },
    )
    assert response.status_code == 302
    jobs = list(Job.objects.filter(owner=owner).order_by("created_at"))
    assert len(jobs) == 3
    assert [job.estimated_credits for job in jobs] == [5, 6, 8]
    assert len({job.batch for job in jobs}) == 1 and jobs[0].batch is not None
    assert len({job.hold_id for job in jobs}) == 3 and len({job.attestation_id for job in jobs}) == 3
    assert [job.attestation.speaker_name for job in jobs] == ["Ann (EN)", "Bea (FR)", "Cem (DE)"]
    assert [job.attestation.voice_provenance for job in jobs] == ["own", "own", "licensed"]
    for job in jobs:
        assert set(job.attestation.media_sha256) == {job.portrait.sha256, job.voice.sha256}
        assert job.status == Status.QUEUED
    assert CreditAccount.objects.get(workspace=workspace_of(owner)).balance == 1000 - 19
    assert Attestation.objects.count() == 3


def test_batch_is_all_or_nothing_when_credits_run_out(client, face_portrait, media_dir):

    from lipsync_site.credits.services import grant_credits

    user = make_user("tight")
    grant_credits(workspace=workspace_of(user), amount=12, reason="test")
    client.force_login(user)
    voices = [mediafactory.make_audio(media_dir / f"v{i}.wav", seconds=6.0, freq=200 + i * 30) for i in range(3)]
    check = client.post(
        reverse("jobs:new"),
        {
            "shape": "portrait_audio",
            "step": "check",
            "portrait": upload(face_portrait),
            "voice_audio": [upload(v) for v in voices],
        },
    ).content.decode()
    response = client.post(
        reverse("jobs:new"),
        {
            "shape": "portrait_audio",
            "step": "start",
            "portrait_asset": hidden(check, "portrait_asset"),
            "voice_assets": hidden(check, "voice_assets"),
            **consent(),
        },
    )
    assert response.status_code == 400
    assert "These 3 jobs need 18 credits and the workspace has 12" in response.content.decode()
    assert not Job.objects.exists() and not Hold.objects.exists() and not Attestation.objects.exists()


def test_refused_file_in_a_check_leaves_nothing_of_that_request(owner_client, owner, face_clip, media_dir, settings):
    fake = media_dir / "voice.mp3"
    fake.write_bytes(b"<html><script>alert(1)</script></html>")
    response = owner_client.post(
        reverse("jobs:new"),
        {"shape": "video_audio", "step": "check", "source_video": upload(face_clip), "voice_audio": upload(fake)},
    )
    assert response.status_code == 400
    assert "voice.mp3: This is a web page (HTML), not media." in response.content.decode()
    assert not Asset.objects.exists()
    assert not [p for p in settings.MEDIA_ROOT.rglob("*") if p.is_file()]


def test_other_users_asset_ids_are_ignored(owner_client, outsider, face_clip):
    from lipsync_site.media.services import store_upload

    theirs = store_upload(owner=outsider, workspace=workspace_of(outsider), upload=upload(face_clip), kind="video")
    html = owner_client.post(
        reverse("jobs:new"), {"shape": "video_audio", "step": "check", "video_asset": str(theirs.pk)}
    ).content.decode()
    assert str(theirs.pk) not in html


def test_oversize_upload_is_refused_with_the_cap_and_stores_nothing(owner_client, face_clip, settings):
    settings.MEDIA_UPLOAD_MAX_BYTES = 10_000
    response = owner_client.post(
        reverse("jobs:new"), {"shape": "video_audio", "step": "check", "source_video": upload(face_clip)}
    )
    assert response.status_code == 413
    assert "larger than the upload limit" in response.content.decode()
    assert not Asset.objects.exists()
    assert not [p for p in settings.MEDIA_ROOT.rglob("*") if p.is_file()]


def test_public_figure_needs_evidence_and_waits_for_a_moderator(owner_client, owner, face_clip, voice, media_dir):
    check = owner_client.post(
        reverse("jobs:new"),
        {"shape": "video_audio", "step": "check", "source_video": upload(face_clip), "voice_audio": upload(voice)},
    ).content.decode()
    ids = {"video_asset": hidden(check, "video_asset"), "voice_assets": hidden(check, "voice_assets")}
    response = owner_client.post(
        reverse("jobs:new"), {"shape": "video_audio", "step": "start", **ids, **consent(public_figure="yes")}
    )
    assert response.status_code == 400 and "signed release" in response.content.decode()
    release = media_dir / "release.pdf"
    release.write_bytes(b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")
    response = owner_client.post(
        reverse("jobs:new"),
        {"shape": "video_audio", "step": "start", "evidence": upload(release), **ids, **consent(public_figure="yes")},
    )
    assert response.status_code == 302
    job = Job.objects.get(owner=owner)
    assert job.status == Status.AWAITING_REVIEW  # the site policy is "after" in tests
    assert job.attestation.public_figure and job.attestation.evidence.content_type == "application/pdf"
