"""Where a route cannot fit voice and video lengths itself, we prepare the voice first."""

import pytest

from lipsync_site.jobs import quote, services
from lipsync_site.media.models import Asset
from lipsync_site.media.probe import MediaRejected
from tests import mediafactory
from tests.factories import stored, workspace_of

pytestmark = pytest.mark.django_db


# Creatify fits lengths only by looping: every other mode needs our preparation.
MODELESS_ROUTE = "creatify-lipsync"


def create(owner, video, voice, mode):
    return services.create_job(
        owner=owner,
        workspace=workspace_of(owner),
        inputs=services.JobInputs(
            shape="video_audio", route_id=MODELESS_ROUTE, source_video=video, voice=voice, mismatch_mode=mode
        ),
        consent=services.Consent(likeness_consent=True, voice_provenance="own", person_name="Ada"),
    )


@pytest.mark.parametrize(("voice_seconds", "mode"), [(3.0, "cut_off"), (1.4, "silence")])
def test_voice_is_trimmed_or_padded_to_the_video(owner, clip, media_dir, voice_seconds, mode):
    video = stored(owner, clip, "video")
    voice = stored(owner, mediafactory.make_audio(media_dir / "v.wav", seconds=voice_seconds), "audio")
    job = create(owner, video, voice, mode)
    assert job.voice.origin == Asset.Origin.DERIVED and job.voice.derived_from_id == voice.pk
    assert job.voice.duration_seconds == pytest.approx(video.duration_seconds, abs=0.05)
    assert job.options["prepared_voice_from"] == str(voice.pk)
    assert set(job.attestation.media_sha256) == {video.sha256, voice.sha256, job.voice.sha256}


def test_modes_we_cannot_prepare_are_refused_with_the_alternatives(owner, clip, media_dir):
    video = stored(owner, clip, "video")
    voice = stored(owner, mediafactory.make_audio(media_dir / "v.wav", seconds=3.0), "audio")
    with pytest.raises(MediaRejected, match="cannot bounce these lengths; choose cut off or loop"):
        create(owner, video, voice, "bounce")
    offers = quote.offer_routes(shape="video_audio", video=video, portrait=None, voices=[voice], mismatch_mode="bounce")
    assert not next(offer for offer in offers if offer.route.id == MODELESS_ROUTE).fits


def test_route_limits_take_the_route_off_the_list_with_the_reason(owner, clip, media_dir):
    video = stored(owner, clip, "video")
    long_voice = stored(owner, mediafactory.make_audio(media_dir / "long.wav", seconds=301.0, rate=8000), "audio")
    offers = quote.offer_routes(
        shape="video_audio", video=video, portrait=None, voices=[long_voice], mismatch_mode="cut_off"
    )
    assert not offers[0].fits
    assert "takes up to 300 seconds" in " ".join(offers[0].problems)
