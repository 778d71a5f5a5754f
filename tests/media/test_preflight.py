"""Preflight checks on real analysed uploads: faces, portrait size, levels, lengths."""

import numpy as np
import pytest

from lipsync_site.media.preflight import BLOCK, PASS, WARN, run_checks
from lipsync_site.media.selectors import speaker_box, speaker_faces
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


def test_a_single_face_video_counts_one_face_and_asks_nothing(owner, media_dir):
    clip = mediafactory.make_presenter_clip(media_dir / "one.mp4", width=1280, height=720, seconds=2.0)
    video = stored(owner, clip, "video")
    assert all(len(faces) == 1 for faces in video.analysis["faces"])
    assert [speaker["index"] for speaker in video.analysis["speakers"]] == [1]
    assert "faces_many" not in {check.code for check in run_checks(video=video)}


def test_two_people_are_numbered_left_to_right_on_a_poster_showing_both(owner, media_dir):
    clip = mediafactory.make_presenter_clip(
        media_dir / "two.mp4", width=960, height=540, seconds=2.0, face_height=0.3, faces=2
    )
    video = stored(owner, clip, "video")
    assert ("faces_many", WARN) in levels(run_checks(video=video))
    faces = speaker_faces(video)
    assert [face.index for face in faces] == [1, 2]
    poster = video.poster
    assert (poster.width, poster.height) == (640, 360)
    left, right = faces
    # Outlines in the poster's pixels, around each person's face.
    assert left.x + left.width < poster.width / 2 < right.x
    assert 60 < left.width < 140 and 30 < left.y < 150
    assert left.box == pytest.approx((left.x / 640, left.y / 360, left.width / 640, left.height / 360), abs=0.01)
    assert speaker_box(video, 2) == right.box and speaker_box(video, 3) is None and speaker_box(video, None) is None


def test_a_portrait_offers_its_faces_on_itself(owner, media_dir):
    pair = np.concatenate([mediafactory.astronaut(), mediafactory.astronaut()[:, ::-1]], axis=1)
    image = stored(owner, mediafactory.make_image(media_dir / "pair.png", picture=pair), "image")
    faces = speaker_faces(image)
    assert [face.index for face in faces] == [1, 2]
    assert 160 < faces[0].x < 200 and 740 < faces[1].x < 780  # image pixels, left first


def test_assets_analysed_before_speakers_were_recorded_still_offer_faces(owner, media_dir):
    clip = mediafactory.make_presenter_clip(media_dir / "old.mp4", width=640, height=360, seconds=1.0)
    video = stored(owner, clip, "video")
    # As the Haar-era analysis stored it: per sample, boxes by confidence, one face twice.
    video.analysis = {"faces": [[], [[0.40, 0.1, 0.2, 0.35], [0.41, 0.11, 0.19, 0.33], [0.05, 0.5, 0.1, 0.18]]]}
    faces = speaker_faces(video)
    assert [(face.index, face.box[0]) for face in faces] == [(1, 0.05), (2, 0.40)]


def test_remap_past_double_length_blocks_before_any_credit_is_held(owner, media_dir):
    video = stored(owner, mediafactory.make_face_video(media_dir / "face.mp4", seconds=2.0, size=320), "video")
    long_voice = stored(owner, mediafactory.make_audio(media_dir / "long.wav", seconds=5.0), "audio")
    close_voice = stored(owner, mediafactory.make_audio(media_dir / "close.wav", seconds=2.6), "audio")
    blocked = run_checks(video=video, voices=[long_voice], mismatch_mode="remap")
    assert ("remap", BLOCK) in levels(blocked)
    assert "between half and double speed" in next(check.reason for check in blocked if check.code == "remap")
    assert "remap" not in {check.code for check in run_checks(video=video, voices=[close_voice], mismatch_mode="remap")}
    assert "remap" not in {check.code for check in run_checks(video=video, voices=[long_voice], mismatch_mode="loop")}
