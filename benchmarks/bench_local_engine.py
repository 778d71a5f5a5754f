"""Benchmark (not a test): the local draft engine's speed and memory.

Prints frames per second and the real-time factor (clip seconds per wall second; above 1
is faster than real time) for a re-sync at 480p, 720p and 1080p, 25 fps, and the talking
head from a portrait; then the peak RSS of a short and a long 720p render, each in its own
process, to show memory stays flat in clip length.

    python benchmarks/bench_local_engine.py [--seconds 8]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SIZES = {"480p": (854, 480), "720p": (1280, 720), "1080p": (1920, 1080)}


def face_frame(width: int, height: int):
    import cv2
    import numpy as np

    from tests.mediafactory import astronaut

    frame = np.full((height, width, 3), 90, dtype=np.uint8)
    side = height
    face = cv2.resize(astronaut(), (side, side))
    left = (width - side) // 2
    frame[:, left : left + side] = face
    return frame


def make_inputs(root: Path, size: str, seconds: float) -> tuple[Path, Path]:
    from tests.mediafactory import make_audio, make_video

    width, height = SIZES[size]
    video = make_video(
        root / f"{size}.mp4", seconds=seconds, width=width, height=height, picture=face_frame(width, height)
    )
    voice = make_audio(root / f"voice-{seconds}.wav", seconds=seconds)
    return video, voice


def render_once(size: str, seconds: float) -> dict:
    from lipsync_site.providers.local_engine import pipeline

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        video, voice = make_inputs(root, size, seconds)
        started, cpu_started = time.perf_counter(), time.process_time()
        result = pipeline.resync_video(video, voice, root / "out.mp4", mode="cut_off")
        wall = time.perf_counter() - started
        cpu = time.process_time() - cpu_started
    return {
        "size": size,
        "seconds": seconds,
        "frames": result.frames,
        "wall": wall,
        "cpu": cpu,
        "fps": result.frames / wall,
        "rtf": seconds / wall,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def talking_head_once(seconds: float) -> dict:
    from lipsync_site.providers.local_engine import pipeline
    from tests.mediafactory import make_audio, make_image

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        portrait = make_image(root / "portrait.png", picture=face_frame(720, 720))
        voice = make_audio(root / "voice.wav", seconds=seconds)
        started = time.perf_counter()
        result = pipeline.talking_head(portrait, voice, root / "out.mp4")
        wall = time.perf_counter() - started
    return {"frames": result.frames, "fps": result.frames / wall, "rtf": seconds / wall}


def in_subprocess(size: str, seconds: float) -> dict:
    output = subprocess.run(
        [sys.executable, __file__, "--one", size, "--seconds", str(seconds)], capture_output=True, text=True, check=True
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--one", choices=sorted(SIZES))
    args = parser.parse_args()
    if args.one:
        print(json.dumps(render_once(args.one, args.seconds)))
        return
    print(f"Local draft engine, re-sync of a {args.seconds:.0f} s clip at 25 fps (each size in its own process)")
    print(f"{'size':>6} {'frames':>7} {'wall s':>7} {'cpu s':>7} {'fps':>7} {'x real time':>12} {'peak RSS MB':>12}")
    for size in SIZES:
        row = in_subprocess(size, args.seconds)
        print(
            f"{size:>6} {row['frames']:>7} {row['wall']:>7.2f} {row['cpu']:>7.2f} {row['fps']:>7.1f}"
            f" {row['rtf']:>12.2f} {row['peak_rss_mb']:>12.0f}"
        )
    head = talking_head_once(args.seconds)
    print(f"talking head 720x720: {head['fps']:.1f} fps, {head['rtf']:.2f}x real time")
    short, long = in_subprocess("720p", 4.0), in_subprocess("720p", 4 * 4.0)
    print(
        f"memory, 720p: {short['seconds']:.0f} s clip peak {short['peak_rss_mb']:.0f} MB;"
        f" {long['seconds']:.0f} s clip peak {long['peak_rss_mb']:.0f} MB"
    )


if __name__ == "__main__":
    main()
