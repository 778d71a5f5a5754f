"""Output frame sizes, and the source frames laid out for each duration-mismatch mode."""

from fractions import Fraction

import av
import numpy as np
import pytest

from lipsync_site.media.frames import laid_out
from lipsync_site.media.render import RenderError, mux_video_with_audio, output_size, remap_problem
from tests import mediafactory


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ((1080, 1920), (1080, 1920)),  # a vertical phone video keeps its size (the trial gave 608x1080)
        ((1920, 1080), (1920, 1080)),
        ((3840, 2160), (1920, 1080)),
        ((2160, 3840), (1080, 1920)),
        ((1440, 1440), (1080, 1080)),
        ((2560, 1080), (1920, 810)),  # ultra-wide: the long side decides
        ((640, 480), (640, 480)),  # never scaled up
        ((853, 481), (852, 480)),  # even, for 4:2:0
    ],
)
def test_output_size_caps_short_side_at_1080_and_long_side_at_1920(source, expected):
    assert output_size(*source) == expected


def test_a_vertical_video_comes_out_vertical_and_full_size(tmp_path):
    clip = mediafactory.make_video(tmp_path / "phone.mp4", seconds=0.2, width=1080, height=1920)
    voice = mediafactory.make_audio(tmp_path / "voice.wav", seconds=0.2)
    out = tmp_path / "out.mp4"
    mux_video_with_audio(clip, voice, out, mode="cut_off")
    with av.open(str(out)) as container:
        stream = container.streams.video[0]
        assert (stream.width, stream.height) == (1080, 1920)


def numbered_clip(path, count=30):
    """A clip whose frame i is uniformly 8*i grey, losslessly encoded."""
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("libx264", rate=25)
        stream.width = stream.height = 64
        stream.pix_fmt = "yuv420p"
        stream.options = {"crf": "0"}
        for index in range(count):
            frame = av.VideoFrame.from_ndarray(np.full((64, 64, 3), index * 8, dtype=np.uint8), format="rgb24")
            frame.pts, frame.time_base = index, Fraction(1, 25)
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path


def levels(path, mode, total):
    return [
        round(frame.to_ndarray(format="rgb24").mean() / 8)
        for frame in laid_out(path, mode=mode, total=total, fps=Fraction(25), source_frames=30)
    ]


def test_bounce_plays_forward_then_backward(tmp_path):
    shown = levels(numbered_clip(tmp_path / "numbered.mp4"), "bounce", 70)
    assert shown[:30] == list(range(30))
    assert shown[30:60] == list(range(29, -1, -1))
    assert shown[60:] == list(range(10))


def test_remap_slows_the_whole_clip_down_evenly(tmp_path):
    shown = levels(numbered_clip(tmp_path / "numbered.mp4"), "remap", 45)
    assert len(shown) == 45 and shown[0] == 0 and shown[-1] == 29
    assert shown == sorted(shown) and set(shown) == set(range(30))  # every frame, in order
    steps = np.diff(shown)
    assert set(steps) <= {0, 1}


def test_remap_speeds_the_whole_clip_up_evenly(tmp_path):
    shown = levels(numbered_clip(tmp_path / "numbered.mp4"), "remap", 20)
    assert len(shown) == 20 and shown[0] <= 1 and shown[-1] >= 28
    assert set(np.diff(shown)) <= {1, 2}


def test_loop_and_silence_fill_the_voice(tmp_path):
    clip = numbered_clip(tmp_path / "numbered.mp4")
    assert levels(clip, "loop", 40) == list(range(30)) + list(range(10))
    assert levels(clip, "silence", 40) == list(range(30)) + [29] * 10


def test_remap_is_refused_past_half_or_double_speed(tmp_path):
    assert remap_problem(10.0, 12.0) == ""
    assert remap_problem(10.0, 19.9) == ""
    assert remap_problem(5.0, 52.0).startswith(
        "Remap would play the video at 0.1x its speed (stretch 5.0 s of video over 52.0 s of voice)"
    )
    assert "at 3.0x its speed (squeeze 30.0 s of video into 10.0 s" in remap_problem(30.0, 10.0)
    clip = mediafactory.make_video(tmp_path / "clip.mp4", seconds=1.0)
    voice = mediafactory.make_audio(tmp_path / "voice.wav", seconds=3.0)
    with pytest.raises(RenderError, match="between half and double speed"):
        mux_video_with_audio(clip, voice, tmp_path / "out.mp4", mode="remap")


def test_the_plain_mux_remaps_to_the_voice(tmp_path):
    clip = mediafactory.make_video(tmp_path / "clip.mp4", seconds=2.0)
    voice = mediafactory.make_audio(tmp_path / "voice.wav", seconds=3.0)
    out = tmp_path / "out.mp4"
    assert mux_video_with_audio(clip, voice, out, mode="remap") == pytest.approx(3.0, abs=0.05)
    with av.open(str(out)) as container:
        assert container.duration / av.time_base == pytest.approx(3.0, abs=0.05)
