"""Preflight checks on real analysed uploads: faces, portrait size, levels, lengths."""

import numpy as np
import pytest

from lipsync_site.media.preflight import BLOCK, PASS, WARN, run_checks
from tests import mediafactory
from tests.factories import stored

pytestmark = pytest.mark.django_db


def levels(checks):
    return {(check.code, check.level) for check in checks}


def test_astronaut_portrait_passes(owner, media_dir):
    portrait = stored(owner, mediafactory.make_image(media_dir / "a.png", picture=mediafactory.astronaut()), "image")
    assert levels(run_checks(portrait=portrait)) == {("face", PASS), ("portrait_size", PASS)}


def test_no_face_blocks_and_confirming_turns_it_into_a_warning(owner, portrait):
    image = stored(owner, portrait, "image")
    blocked = run_checks(portrait=image)
    assert ("face", BLOCK) in levels(blocked)
    assert next(check for check in blocked if check.code == "face").confirmable
    assert ("face", WARN) in levels(run_checks(portrait=image, confirmed_no_face=True))


def test_small_portrait_warns(owner, media_dir):
    small = mediafactory.astronaut()[::2, ::2].copy()  # 256x256
    image = stored(owner, mediafactory.make_image(media_dir / "small.png", picture=small), "image")
    checks = run_checks(portrait=image)
    assert ("portrait_size", WARN) in levels(checks)
    assert "256x256 px, under 512x512" in next(c.reason for c in checks if c.code == "portrait_size")


def test_several_faces_warn(owner, media_dir):
    pair = np.concatenate([mediafactory.astronaut(), mediafactory.astronaut()], axis=1)
    image = stored(owner, mediafactory.make_image(media_dir / "pair.png", picture=pair), "image")
    assert ("faces_many", WARN) in levels(run_checks(portrait=image))


def test_small_face_warns(owner, media_dir):
    canvas = np.zeros((1600, 1600, 3), dtype=np.uint8)
    canvas[544:1056, 544:1056] = mediafactory.astronaut()
    image = stored(owner, mediafactory.make_image(media_dir / "far.png", picture=canvas), "image")
    assert ("face_small", WARN) in levels(run_checks(portrait=image))


def test_faces_are_found_in_frames_sampled_across_a_video(owner, media_dir):
    clip = mediafactory.make_video(
        media_dir / "face.mp4", seconds=3.0, width=512, height=512, picture=mediafactory.astronaut()
    )
    video = stored(owner, clip, "video")
    # Samples are keyframes (one per point, never the same frame twice): this 3 s clip has
    # a single keyframe, so one sample, and it shows the face.
    assert 1 <= len(video.analysis["faces"]) <= 6 and all(video.analysis["faces"])
    assert ("face", PASS) in levels(run_checks(video=video))


def test_samples_are_distinct_keyframes_spread_across_the_video(media_dir):
    import av

    from lipsync_site.media.analysis_worker import analyse_video

    path = media_dir / "keyframes.mp4"
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("libx264", rate=25, options={"g": "25", "preset": "ultrafast"})
        stream.width, stream.height, stream.pix_fmt = 160, 120, "yuv420p"
        for index in range(250):  # 10 s, a keyframe every second
            frame = av.VideoFrame.from_ndarray(mediafactory.np.full((120, 160, 3), index % 256, "uint8"), "rgb24")
            frame.pts = index
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    assert len(analyse_video(str(path), None)["faces"]) == 6


def test_silent_voice_blocks(owner, media_dir):
    voice = stored(owner, mediafactory.make_audio(media_dir / "quiet.wav", amplitude=0.0), "audio")
    checks = run_checks(voices=[voice])
    assert ("audio_level", BLOCK) in levels(checks)
    assert "silent or nearly so" in checks[0].reason


def test_clipped_voice_warns(owner, media_dir):
    voice = stored(owner, mediafactory.make_audio(media_dir / "loud.wav", amplitude=1.0), "audio")
    assert ("audio_clipped", WARN) in levels(run_checks(voices=[voice]))


def test_clean_voice_passes(owner, voice):
    assert levels(run_checks(voices=[stored(owner, voice, "audio")])) == {("audio_level", PASS)}


@pytest.mark.parametrize(("voice_seconds", "level"), [(2.1, PASS), (2.5, WARN), (1.5, WARN)])
def test_lengths_more_than_ten_percent_apart_warn(owner, clip, media_dir, voice_seconds, level):
    video = stored(owner, clip, "video")
    voice = stored(owner, mediafactory.make_audio(media_dir / f"v{voice_seconds}.wav", seconds=voice_seconds), "audio")
    assert ("mismatch", level) in levels(run_checks(video=video, voices=[voice]))


def test_analysis_failure_is_a_warning_not_a_refusal(owner, voice):
    asset = stored(owner, voice, "audio")
    asset.analysis = {"error": "The analysis took too long."}
    checks = run_checks(voices=[asset])
    assert [(check.code, check.level) for check in checks] == [("audio_level", WARN)]
