"""``make bench``: the media check of a 30 s 1080p clip against a plain ``ffprobe`` of the
same file, in the same run. Goal: under 5x.

The check is what the form runs when a file is chosen: identify the file by content in a
time-limited subprocess, then look inside it (faces at sampled keyframes, a poster frame).
The clip is encoded like a camera or an editor would (H.264 with x264's default keyframe
interval, AAC interleaved with the picture).
"""

import resource
import shutil
import statistics
import subprocess
import time
from fractions import Fraction

import av
import numpy as np
import pytest

from lipsync_site.media.probe import probe

pytestmark = pytest.mark.bench

ROUNDS = 7
GOAL = 5.0


def make_clip(path, *, seconds=30, width=1920, height=1080, fps=25):
    with av.open(str(path), mode="w") as container:
        video = container.add_stream("libx264", rate=fps, options={"preset": "ultrafast"})
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        audio = container.add_stream("aac", rate=48_000)
        audio.layout = "mono"
        ramp = np.linspace(0, 255, width, dtype=np.uint8)[None, :, None]
        samples_per_frame = 48_000 // fps
        for index in range(seconds * fps):
            rgb = np.empty((height, width, 3), dtype=np.uint8)
            rgb[:] = ramp
            rgb[:, :, 0] = (index * 4) % 256
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
            frame.pts, frame.time_base = index, Fraction(1, fps)
            container.mux(video.encode(frame))
            start = index * samples_per_frame
            tone = 0.2 * np.sin(2 * np.pi * 220 * (start + np.arange(samples_per_frame)) / 48_000)
            sound = av.AudioFrame.from_ndarray(tone.astype(np.float32).reshape(1, -1), format="fltp", layout="mono")
            sound.sample_rate, sound.pts, sound.time_base = 48_000, start, Fraction(1, 48_000)
            container.mux(audio.encode(sound))
        container.mux(video.encode(None))
        container.mux(audio.encode(None))
    return path


def test_media_check_of_a_30_s_1080p_clip_against_ffprobe(tmp_path, settings):
    ffprobe = shutil.which("ffprobe")
    if ffprobe is None:
        pytest.fail("ffprobe is missing: apt-get install ffmpeg (the baseline this benchmark compares with)")
    clip = make_clip(tmp_path / "clip.mp4")
    poster = tmp_path / "poster.jpg"

    def run_ffprobe():
        subprocess.run(
            [ffprobe, "-v", "error", "-show_format", "-show_streams", str(clip)], check=True, capture_output=True
        )

    def run_check():
        return probe(clip, analyse=True, poster_path=poster, timeout=60)

    facts = run_check()
    assert facts.width == 1920 and facts.duration_seconds == pytest.approx(30.0, abs=0.1)
    assert "error" not in facts.analysis and poster.stat().st_size > 0
    times = {"ffprobe": [], "check": []}
    cpu = {"ffprobe": [], "check": []}  # CPU seconds of the child processes: steadier on a busy machine
    for _ in range(ROUNDS):  # interleaved: a busy moment on the machine hits both
        for name, run in (("ffprobe", run_ffprobe), ("check", run_check)):
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            started = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - started)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu[name].append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    baseline, check = statistics.median(times["ffprobe"]), statistics.median(times["check"])
    cpu_baseline, cpu_check = statistics.median(cpu["ffprobe"]), statistics.median(cpu["check"])
    ratio = check / baseline
    print(f"\nmedia check of a 30 s 1080p clip, median of {ROUNDS} (wall time; CPU seconds of the processes):")
    print(f"  ffprobe -show_format -show_streams  {baseline * 1000:7.1f} ms  1.00x   cpu {cpu_baseline * 1000:6.1f} ms")
    print(
        f"  media check (probe + faces + poster) {check * 1000:7.1f} ms  {ratio:4.2f}x   "
        f"cpu {cpu_check * 1000:6.1f} ms {cpu_check / cpu_baseline:4.2f}x  "
        f"({len(facts.analysis['faces'])} keyframes sampled)"
    )
    print(f"  goal: under {GOAL}x")
    assert baseline > 0 and check > 0, "measured nothing"
    assert ratio < GOAL, f"the check takes {ratio:.1f}x ffprobe's time (goal under {GOAL}x)"
