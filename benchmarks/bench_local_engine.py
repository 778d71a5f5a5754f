"""Benchmark (not a test): the local draft engine's speed and memory, against a plain
transcode of the same clip measured in the same run.

For each size (480p, 720p, 1080p and a vertical 1080x1920 phone video) a presenter clip
is made (a real face drifting over a grainy backdrop, 25 fps) with a synthetic voice, and
in one process per size:

- the baseline: ``media.render.mux_video_with_audio``, a plain PyAV decode and encode
  with the voice muxed in (the same encoder settings as the engine);
- the engine: ``resync_video`` with face tracking, 68 landmarks and the mouth warp.

It prints frames per second, the real-time factor (clip seconds per wall second; above 1
is faster than real time), the engine's time as a multiple of the baseline's, and the
share of frames in which a face was animated. It exits non-zero when a size animated no
face (a run that measured decode and encode only) or when memory grows with the clip's
length. Then the output check on the engine's output, the plain mux, and the engine's
output with its sound 200 ms early (the mouth late) and 200 ms late.

    python benchmarks/bench_local_engine.py [--seconds 6]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SIZES = {"480p": (854, 480), "720p": (1280, 720), "1080p": (1920, 1080), "1080x1920": (1080, 1920)}
FACE_HEIGHT = {"1080x1920": 0.18}  # a phone video shows head and shoulders: a smaller face
MIN_FACE_SHARE = 0.9  # the clip shows the face in every frame
MEMORY_SLACK_MB = 40


def make_inputs(root: Path, size: str, seconds: float) -> tuple[Path, Path]:
    from tests.mediafactory import make_presenter_clip, make_speech

    width, height = SIZES[size]
    video = make_presenter_clip(
        root / f"{size}.mp4", width=width, height=height, seconds=seconds, face_height=FACE_HEIGHT.get(size, 0.3)
    )
    voice = make_speech(root / f"voice-{seconds}.wav", seconds=seconds)
    return video, voice


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def render_once(size: str, seconds: float, *, baseline: bool = True) -> dict:
    from lipsync_site.media.faces import landmark_predictor
    from lipsync_site.media.render import mux_video_with_audio
    from lipsync_site.providers.local_engine import pipeline

    landmark_predictor()  # loaded once per worker process; not part of a render's time
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        video, voice = make_inputs(root, size, seconds)
        row = {"size": size, "seconds": seconds}
        if baseline:
            started, cpu_started = time.perf_counter(), time.process_time()
            mux_video_with_audio(video, voice, root / "plain.mp4", mode="cut_off")
            row["plain_wall"] = time.perf_counter() - started
            row["plain_cpu"] = time.process_time() - cpu_started
        rss_before = peak_rss_mb()
        started, cpu_started = time.perf_counter(), time.process_time()
        result = pipeline.resync_video(video, voice, root / "out.mp4", mode="cut_off")
        row.update(
            frames=result.frames,
            face_share=result.face_share,
            wall=time.perf_counter() - started,
            cpu=time.process_time() - cpu_started,
            rss_before_mb=rss_before,
            peak_rss_mb=peak_rss_mb(),
        )
    return row


def check_figures(seconds: float) -> tuple[list[tuple[str, object]], float]:
    """The output check on the engine's output, a plain mux, and shifted sound."""
    from lipsync_site.media.lipsync_check import check_output
    from lipsync_site.media.render import mux_video_with_audio
    from lipsync_site.providers.local_engine import pipeline
    from tests.mediafactory import with_sound_shifted

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        video, voice = make_inputs(root, "720p", seconds)
        engine_out = root / "engine.mp4"
        pipeline.resync_video(video, voice, engine_out, mode="cut_off")
        plain = root / "plain.mp4"
        mux_video_with_audio(video, voice, plain, mode="cut_off")
        started = time.perf_counter()
        rows.append(("engine output", check_output(engine_out, voice)))
        check_wall = time.perf_counter() - started
        rows.append(("plain mux", check_output(plain, voice)))
        for shift in (200, -200):
            shifted = with_sound_shifted(engine_out, voice, root / f"shifted{shift}.mp4", milliseconds=shift)
            label = f"sound {abs(shift)} ms {'early (mouth late)' if shift > 0 else 'late (mouth early)'}"
            rows.append((label, check_output(shifted, voice)))
    return rows, check_wall


def in_subprocess(size: str, seconds: float, *, baseline: bool = True) -> dict:
    command = [sys.executable, __file__, "--one", size, "--seconds", str(seconds)]
    if not baseline:
        command.append("--no-baseline")
    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        raise SystemExit(f"{size} failed:\n{completed.stderr}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=6.0)
    parser.add_argument("--one", choices=sorted(SIZES))
    parser.add_argument("--no-baseline", action="store_true")
    args = parser.parse_args()
    if args.one:
        print(json.dumps(render_once(args.one, args.seconds, baseline=not args.no_baseline)))
        return 0
    # The output check's words are translated text: Django's settings and apps first.
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lipsync_site.settings")
    import django

    django.setup()
    failures = []
    print(f"Local draft engine, re-sync of a {args.seconds:.0f} s clip at 25 fps, each size in its own process;")
    print("baseline: plain PyAV decode + encode + voice mux of the same clip, same run.")
    print("engine/plain compares wall time; cpu ratio compares CPU seconds (all threads), steadier on a busy machine.")
    header = (
        f"{'size':>10} {'frames':>6} {'face':>5} {'plain fps':>9} {'plain x rt':>10} "
        f"{'engine fps':>10} {'engine x rt':>11} {'engine/plain':>12} {'cpu ratio':>9} {'peak MB':>8}"
    )
    print(header)
    for size in SIZES:
        row = in_subprocess(size, args.seconds)
        plain_fps = row["frames"] / row["plain_wall"]
        engine_fps = row["frames"] / row["wall"]
        print(
            f"{size:>10} {row['frames']:>6} {row['face_share']:>5.0%} {plain_fps:>9.1f} "
            f"{args.seconds / row['plain_wall']:>10.2f} {engine_fps:>10.1f} {args.seconds / row['wall']:>11.2f} "
            f"{row['wall'] / row['plain_wall']:>12.2f} {row['cpu'] / row['plain_cpu']:>9.2f} {row['peak_rss_mb']:>8.0f}"
        )
        if row["face_share"] < MIN_FACE_SHARE:
            failures.append(
                f"{size}: a face was animated in only {row['face_share']:.0%} of the frames; "
                "this run measured decode and encode, not the engine"
            )
    short, long = in_subprocess("720p", 4.0, baseline=False), in_subprocess("720p", 16.0, baseline=False)
    print(
        f"memory, 720p engine: {short['seconds']:.0f} s clip peak {short['peak_rss_mb']:.0f} MB;"
        f" {long['seconds']:.0f} s clip peak {long['peak_rss_mb']:.0f} MB"
    )
    if long["peak_rss_mb"] > short["peak_rss_mb"] + MEMORY_SLACK_MB:
        failures.append("memory grows with the clip's length")
    rows, check_wall = check_figures(args.seconds)
    print(f"output check (720p, {args.seconds:.0f} s; the check itself took {check_wall:.1f} s on the engine output):")
    print(f"{'output':>34} {'score':>6} {'offset ms':>10} {'drift s':>8}  words")
    for label, check in rows:
        offset = "-" if check.offset_ms is None else f"{check.offset_ms:+d}"
        drift = "-" if check.drift_seconds is None else f"{check.drift_seconds:+.2f}"
        print(f"{label:>34} {check.score:>6.2f} {offset:>10} {drift:>8}  {'; '.join(check.in_words())}")
    for failure in failures:
        print(f"FAILED: {failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
