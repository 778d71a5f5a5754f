"""The local draft engine makes a real face speak, and the output check can tell."""

import math
from fractions import Fraction

import av
import numpy as np
import pytest

from lipsync_site.media.envelope import voice_envelope
from lipsync_site.media.faces import detect_faces
from lipsync_site.media.lipsync_check import THRESHOLD, check_output
from lipsync_site.media.render import mux_video_with_audio
from lipsync_site.providers.local_engine import mouth, pipeline
from lipsync_site.providers.local_engine.frames import laid_out
from tests import mediafactory


@pytest.fixture(scope="module")
def media(tmp_path_factory):
    root = tmp_path_factory.mktemp("engine")
    return {
        "face": mediafactory.make_face_video(root / "face.mp4", seconds=2.0),
        "voice": mediafactory.make_audio(root / "voice.wav", seconds=2.0),
        "long_voice": mediafactory.make_audio(root / "long.wav", seconds=3.4),
        "portrait": mediafactory.make_image(root / "portrait.png", picture=mediafactory.astronaut()),
        "pattern": mediafactory.make_video(root / "pattern.mp4", seconds=1.0),
        "root": root,
    }


def decode(path):
    with av.open(str(path)) as container:
        return [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]


def duration(path):
    with av.open(str(path)) as container:
        return container.duration / av.time_base


def mouth_openness(frames, box):
    x0, y0, x1, y1 = mouth.mouth_region(box, frames[0].shape[1], frames[0].shape[0])
    return np.array([(frame[y0:y1, x0:x1].mean(axis=2) < 70).mean() for frame in frames])


def test_the_cascade_finds_the_astronauts_face():
    faces = detect_faces(mediafactory.astronaut())
    assert faces and 150 < faces[0].x < 210 and 80 < faces[0].w < 120


@pytest.mark.parametrize("mode", ["loop", "bounce", "cut_off", "silence"])
def test_output_lasts_as_long_as_the_voice_within_a_frame(media, mode):
    out = media["root"] / f"resync-{mode}.mp4"
    result = pipeline.resync_video(media["face"], media["long_voice"], out, mode=mode)
    expected = 2.0 if mode == "cut_off" else 3.4
    assert abs(duration(out) - expected) <= 1 / 25 + 1e-3
    assert result.frames_with_face == result.frames
    with av.open(str(out)) as container:
        assert container.streams.video[0].codec_context.name == "h264"
        assert container.streams.audio[0].codec_context.name == "aac"


def test_mouth_motion_follows_the_voice(media):
    out = media["root"] / "follow.mp4"
    pipeline.resync_video(media["face"], media["voice"], out, mode="cut_off")
    frames = decode(out)
    box = detect_faces(frames[0])[0]
    envelope = voice_envelope(media["voice"], fps=25, frames=len(frames))
    correlation = np.corrcoef(mouth_openness(frames, box), envelope)[0, 1]
    assert correlation > 0.6


def test_without_the_warp_nothing_follows_the_voice(media, monkeypatch):
    """The test above fails if the mouth is not opened: shown here by switching it off."""
    monkeypatch.setattr(pipeline, "open_mouth_yuv", lambda yuv, box, amount: yuv)
    out = media["root"] / "no-warp.mp4"
    pipeline.resync_video(media["face"], media["voice"], out, mode="cut_off")
    frames = decode(out)
    box = detect_faces(frames[0])[0]
    openness = mouth_openness(frames, box)
    envelope = voice_envelope(media["voice"], fps=25, frames=len(frames))
    assert np.std(openness) < 1e-3 or abs(np.corrcoef(openness, envelope)[0, 1]) < 0.3


def test_frames_without_a_face_pass_through_bit_identical(media):
    frames = list(laid_out(media["pattern"], mode="cut_off", total=25, fps=Fraction(25), source_frames=25))
    assert not detect_faces(frames[0])
    for frame in frames:
        assert mouth.open_mouth(frame, None, 1.0) is frame
    face = mediafactory.astronaut()
    assert mouth.open_mouth(face, detect_faces(face)[0], 0.0) is face
    changed = mouth.open_mouth(face, detect_faces(face)[0], 1.0)
    assert changed is not face and np.abs(changed.astype(int) - face).sum() > 0


def test_bounce_plays_forward_then_backward(media, tmp_path):
    numbered = tmp_path / "numbered.mp4"
    pictures = []
    with av.open(str(numbered), mode="w") as container:
        stream = container.add_stream("libx264", rate=25)
        stream.width = stream.height = 64
        stream.pix_fmt = "yuv420p"
        stream.options = {"crf": "0"}
        for index in range(30):
            rgb = np.full((64, 64, 3), index * 8, dtype=np.uint8)
            pictures.append(rgb)
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
            frame.pts, frame.time_base = index, Fraction(1, 25)
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    levels = [
        round(frame.mean() / 8)
        for frame in laid_out(numbered, mode="bounce", total=70, fps=Fraction(25), source_frames=30)
    ]
    assert levels[:30] == list(range(30))
    assert levels[30:60] == list(range(29, -1, -1))
    assert levels[60:] == list(range(10))


def test_portrait_becomes_a_talking_head(media):
    out = media["root"] / "talking.mp4"
    progress = []
    result = pipeline.talking_head(media["portrait"], media["voice"], out, on_progress=progress.append)
    frames = decode(out)
    assert len(frames) == 50 and frames[0].shape == (512, 512, 3)
    assert abs(duration(out) - 2.0) <= 1 / 25 + 1e-3
    assert result.frames_with_face == 50
    assert progress[0] == 0 and progress[-1] == 1.0 and progress == sorted(progress)
    # Not a frozen picture: the head moves even between quiet frames.
    assert np.abs(frames[0].astype(int) - frames[-1]).mean() > 1


def test_output_check_scores_engine_output_high_and_muxed_output_low(media):
    engine_out = media["root"] / "engine-check.mp4"
    pipeline.resync_video(media["face"], media["voice"], engine_out, mode="cut_off")
    muxed_out = media["root"] / "muxed-check.mp4"
    mux_video_with_audio(media["face"], media["voice"], muxed_out, mode="cut_off")

    engine = check_output(engine_out, media["voice"])
    muxed = check_output(muxed_out, media["voice"])
    assert engine.face_found and engine.mouth_moving and engine.score >= THRESHOLD + 0.15
    assert muxed.face_found and not muxed.mouth_moving and muxed.score < THRESHOLD
    assert engine.drift_seconds == pytest.approx(0.0, abs=0.05)
    assert engine.poster_jpeg.startswith(b"\xff\xd8")


def test_output_check_without_a_face(media):
    check = check_output(media["pattern"], None)
    assert not check.face_found and check.score == 0 and not check.mouth_moving
    assert math.isclose(check.duration_seconds, 1.0, abs_tol=0.05)
