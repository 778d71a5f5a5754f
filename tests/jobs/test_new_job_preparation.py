"""Where a route cannot fit voice and video lengths itself, we prepare the voice first."""

import dataclasses

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from lipsync_site.jobs import services
from lipsync_site.jobs.services import creation
from lipsync_site.media.models import Asset
from lipsync_site.media.probe import MediaRejected
from lipsync_site.media.services import store_upload
from lipsync_site.providers import catalog
from tests import mediafactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def modeless_route(monkeypatch):
    """The local draft as a route that does no mismatch mode itself (like Kling)."""
    route = dataclasses.replace(catalog.get_route("local-draft"), mismatch_modes=())
    monkeypatch.setattr(creation, "get_route", lambda route_id: route)
    monkeypatch.setattr(catalog, "routes_for_shape", lambda shape: [route])
    return route


def stored(owner, path, kind):
    return store_upload(owner=owner, upload=SimpleUploadedFile(path.name, path.read_bytes()), kind=kind)


def create(owner, video, voice, mode):
    return services.create_job(
        owner=owner,
        inputs=services.JobInputs(
            shape="video_audio", route_id="local-draft", source_video=video, voice=voice, mismatch_mode=mode
        ),
        consent=services.Consent(likeness_consent=True, voice_provenance="own", person_name="Ada"),
    )


@pytest.mark.parametrize(("voice_seconds", "mode"), [(3.0, "cut_off"), (1.4, "silence")])
def test_voice_is_trimmed_or_padded_to_the_video(owner, clip, media_dir, modeless_route, voice_seconds, mode):
    video = stored(owner, clip, "video")
    voice = stored(owner, mediafactory.make_audio(media_dir / "v.wav", seconds=voice_seconds), "audio")
    job = create(owner, video, voice, mode)
    assert job.voice.origin == Asset.Origin.DERIVED and job.voice.derived_from_id == voice.pk
    assert job.voice.duration_seconds == pytest.approx(video.duration_seconds, abs=0.05)
    assert job.options["prepared_voice_from"] == str(voice.pk)
    assert set(job.attestation.media_sha256) == {video.sha256, voice.sha256, job.voice.sha256}


def test_modes_we_cannot_prepare_are_refused_with_the_alternatives(owner, clip, media_dir, modeless_route):
    video = stored(owner, clip, "video")
    voice = stored(owner, mediafactory.make_audio(media_dir / "v.wav", seconds=3.0), "audio")
    with pytest.raises(MediaRejected, match="cannot loop these lengths; choose cut_off"):
        create(owner, video, voice, "loop")
    offers = creation.offer_routes(
        shape="video_audio", video=video, portrait=None, voices=[voice], mismatch_mode="loop"
    )
    assert not offers[0].fits


def test_route_limits_take_the_route_off_the_list_with_the_reason(owner, clip, media_dir):
    video = stored(owner, clip, "video")
    long_voice = stored(owner, mediafactory.make_audio(media_dir / "long.wav", seconds=301.0, rate=8000), "audio")
    offers = creation.offer_routes(
        shape="video_audio", video=video, portrait=None, voices=[long_voice], mismatch_mode="cut_off"
    )
    assert not offers[0].fits
    assert "takes up to 300 seconds" in " ".join(offers[0].problems)
