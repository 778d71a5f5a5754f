"""Source frames laid out over the output's length, per duration-mismatch mode.

Everything streams: forward passes decode as they go; the backward half of ``bounce``
seeks back chunk by chunk and holds at most one chunk in memory; ``remap`` repeats or
skips frames as it decodes.
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


def planar(frame: av.VideoFrame, size: tuple[int, int] | None) -> np.ndarray:
    """A frame as a 4:2:0 planar array at ``size`` (converted only when it is not
    already), or as RGB when no size is given."""
    if size is None:
        return frame.to_ndarray(format="rgb24")
    width, height = size
    if frame.format.name != "yuv420p" or frame.width != width or frame.height != height:
        frame = frame.reformat(width=width, height=height, format="yuv420p")
    return frame.to_ndarray()


def forward(path: Path) -> Iterator[av.VideoFrame]:
    container, stream = _open(path)
    with container:
        yield from container.decode(stream)


def _frame_index(frame, fps: Fraction) -> int:
    return round(float(frame.time or 0.0) * float(fps))


def backward(path: Path, fps: Fraction, count: int) -> Iterator[av.VideoFrame]:
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
                    chunk.append(frame)
            if not chunk:
                break
            yield from reversed(chunk)
            end = start


def retimed(path: Path, *, total: int, source_frames: int) -> Iterator[av.VideoFrame]:
    """``total`` frames showing the whole clip, slowed down or sped up evenly: output
    frame i shows the source frame at the same fraction of the clip."""
    shown = None
    decoded = -1
    frames = forward(path)
    try:
        for index in range(total):
            wanted = min(source_frames - 1, int((index + 0.5) * source_frames / total))
            while decoded < wanted:
                following = next(frames, None)
                if following is None:
                    break  # fewer frames than the header said: hold the last one
                shown, decoded = following, decoded + 1
            if shown is None:
                return
            yield shown
    finally:
        frames.close()


def laid_out(path: Path, *, mode: str, total: int, fps: Fraction, source_frames: int) -> Iterator[av.VideoFrame]:
    """Exactly ``total`` decoded frames of the source arranged for the mode (see
    PROVIDERS.md), fewer only when the source has no decodable frame."""
    if mode == "remap":
        yield from retimed(path, total=total, source_frames=max(1, source_frames))
        return
    produced = 0
    last = None
    while produced < total:
        passes = [forward(path)]
        if mode == "bounce":
            passes.append(backward(path, fps, source_frames))
        any_frame = False
        for frames in passes:
            for frame in frames:
                any_frame = True
                yield frame
                last = frame
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
