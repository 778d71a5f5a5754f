"""Source frames laid out over the output's length, per duration-mismatch mode.

Everything streams: forward passes decode as they go; the backward half of ``bounce``
seeks back chunk by chunk and holds at most one chunk in memory.
"""

from __future__ import annotations

from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

BOUNCE_CHUNK_FRAMES = 24


def _open(path: Path):
    container = av.open(str(path), options={"protocol_whitelist": "file"})
    stream = container.streams.video[0]
    stream.thread_type = "AUTO"
    return container, stream


def planar(frame, size: tuple[int, int] | None) -> np.ndarray:
    """A frame as a 4:2:0 planar array at ``size``; converted only when it is not already."""
    if size is None:
        return frame.to_ndarray(format="rgb24")
    width, height = size
    if frame.format.name != "yuv420p" or frame.width != width or frame.height != height:
        frame = frame.reformat(width=width, height=height, format="yuv420p")
    return frame.to_ndarray()


def forward(path: Path, size: tuple[int, int] | None = None) -> Iterator[np.ndarray]:
    container, stream = _open(path)
    with container:
        for frame in container.decode(stream):
            yield planar(frame, size)


def _frame_index(frame, fps: Fraction) -> int:
    return round(float(frame.time or 0.0) * float(fps))


def backward(path: Path, fps: Fraction, count: int, size: tuple[int, int] | None = None) -> Iterator[np.ndarray]:
    """The clip's frames last to first, decoding one chunk at a time after a seek."""
    container, stream = _open(path)
    with container:
        end = count
        while end > 0:
            start = max(0, end - BOUNCE_CHUNK_FRAMES)
            target = int(start / float(fps) / stream.time_base) if stream.time_base else 0
            container.seek(max(0, target), stream=stream, backward=True, any_frame=False)
            chunk = []
            for frame in container.decode(stream):
                index = _frame_index(frame, fps)
                if index >= end:
                    break
                if index >= start:
                    chunk.append(planar(frame, size))
            if not chunk:
                break
            yield from reversed(chunk)
            end = start


def laid_out(
    path: Path, *, mode: str, total: int, fps: Fraction, source_frames: int, size: tuple[int, int] | None = None
) -> Iterator[np.ndarray]:
    """Exactly ``total`` frames of the source arranged for the mode (see PROVIDERS.md):
    RGB arrays, or 4:2:0 planar arrays at ``size`` when a size is given."""
    produced = 0
    last = None
    while produced < total:
        passes = [forward(path, size)]
        if mode == "bounce":
            passes.append(backward(path, fps, source_frames, size))
        any_frame = False
        for frames in passes:
            for rgb in frames:
                any_frame = True
                yield rgb
                last = rgb
                produced += 1
                if produced >= total:
                    return
        if not any_frame:
            return
        if mode in {"silence", "cut_off"}:
            # The voice outlasts the picture: hold the last frame.
            while produced < total:
                yield last
                produced += 1
            return
