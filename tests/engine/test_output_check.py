"""The output check on landmarks: score, offset and drift of real outputs, in words."""

import math

import pytest

from lipsync_site.media.lipsync_check import check_output
from lipsync_site.media.render import Mp4Writer
from tests import mediafactory


def test_a_plain_mux_has_a_still_mouth(engine_media):
    check = check_output(engine_media["plain"], engine_media["speech"])
    assert check.face_found and not check.mouth_moving and check.score < 0.3
    assert check.offset_ms is None
    assert check.in_words() == ["the mouth may not be moving with the voice"]
    assert check.problems == ["still_mouth"]


@pytest.mark.parametrize(("shift", "words"), [(200, "about 200 ms late"), (-200, "about 200 ms early")])
def test_an_output_with_its_sound_200_ms_off_is_reported_so(engine_media, tmp_path, shift, words):
    shifted = mediafactory.with_sound_shifted(
        engine_media["engine_out"], engine_media["speech"], tmp_path / "shifted.mp4", milliseconds=shift
    )
    check = check_output(shifted, engine_media["speech"])
    assert check.mouth_moving
    assert check.offset_ms == pytest.approx(shift, abs=40)
    assert words in check.in_words() or check.in_words()[1].endswith(words.split()[-1])
    assert "offset" in check.problems


def test_the_faces_on_the_poster_are_numbered_and_the_checked_one_marked(engine_media):
    check = check_output(engine_media["engine_out"], engine_media["speech"])
    assert [face.index for face in check.faces] == [1]
    assert check.faces[0].checked
    x, y, w, h = check.faces[0].box
    assert 0.3 < x + w / 2 < 0.7 and 0 < w < 0.5 and 0 < y + h / 2 < 0.6
    assert check.poster_jpeg.startswith(b"\xff\xd8")


def test_a_short_picture_under_a_long_voice_is_drift(engine_media, tmp_path):
    """The trial's remap bug: 2 s of picture for a 4 s voice."""
    out = tmp_path / "short.mp4"
    import av

    with (
        av.open(str(engine_media["engine_out"])) as container,
        Mp4Writer(out, width=640, height=480, fps=container.streams.video[0].average_rate) as writer,
    ):
        for index, frame in enumerate(container.decode(video=0)):
            if index >= 50:
                break
            writer.write_frame(frame)
        writer.write_audio_track(engine_media["speech"], 4.0)
    check = check_output(out, engine_media["speech"])
    assert check.drift_seconds == pytest.approx(-2.0, abs=0.05)
    assert check.sound_outlasts_picture
    assert "the last 2.0 s have no picture" in check.in_words()
    assert "drift" in check.problems


def test_an_output_without_a_face(tmp_path):
    clip = mediafactory.make_video(tmp_path / "pattern.mp4", seconds=1.0)
    check = check_output(clip, None)
    assert not check.face_found and check.score == 0 and not check.mouth_moving
    assert check.offset_ms is None and check.drift_seconds is None and check.faces == ()
    assert math.isclose(check.duration_seconds, 1.0, abs_tol=0.05)
    assert check.problems == ["no_face"]
    assert check.in_words() == ["no face was found in the output"]


def test_the_check_follows_the_chosen_face(tmp_path):
    pair = mediafactory.make_presenter_clip(
        tmp_path / "pair.mp4", width=960, height=540, seconds=3.0, face_height=0.3, faces=2
    )
    voice = mediafactory.make_speech(tmp_path / "voice.wav", seconds=3.0)
    from lipsync_site.providers.local_engine import pipeline

    left = None
    check = check_output(pair, voice)
    for face in check.faces:
        if face.index == 1:
            left = list(face.box)
    assert left is not None and len(check.faces) == 2
    right = list(check.faces[1].box)
    out = tmp_path / "left-speaks.mp4"
    pipeline.resync_video(pair, voice, out, mode="cut_off", speaker=left)
    speaking = check_output(out, voice, speaker=left)
    silent = check_output(out, voice, speaker=right)
    assert speaking.mouth_moving and [face.checked for face in speaking.faces] == [True, False]
    assert not silent.mouth_moving and [face.checked for face in silent.faces] == [False, True]
