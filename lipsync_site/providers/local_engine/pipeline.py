"""The two drafts the engine makes: re-synced video, and a talking head from a portrait."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
from PIL import Image

from lipsync_site.media.envelope import voice_envelope
from lipsync_site.media.faces import FaceBox, FaceTracker, detect_faces
from lipsync_site.media.render import Mp4Writer, RenderError, audio_duration, output_seconds, output_size
from lipsync_site.providers.local_engine.frames import laid_out
from lipsync_site.providers.local_engine.mouth import open_mouth, open_mouth_yuv

PORTRAIT_FPS = 25
PROGRESS_EVERY = 10


@dataclass(frozen=True)
class DraftResult:
    seconds: float
    frames: int
    frames_with_face: int
    note: str = ""


def _source_geometry(path: Path) -> tuple[int, int, Fraction, float, int]:
    with av.open(str(path), options={"protocol_whitelist": "file"}) as container:
        if not container.streams.video:
            raise RenderError("The source video has no video stream.")
        stream = container.streams.video[0]
        fps = Fraction(stream.average_rate or stream.guessed_rate or 25)
        if fps > 60 or fps <= 0:
            fps = Fraction(30)
        if stream.duration is not None and stream.time_base is not None:
            seconds = float(stream.duration * stream.time_base)
        else:
            seconds = (container.duration or 0) / av.time_base
        frames = stream.frames or math.floor(seconds * fps)
        return stream.codec_context.width, stream.codec_context.height, fps, seconds, int(frames)


def resync_video(
    video_path: Path,
    audio_path: Path,
    output_path: Path,
    *,
    mode: str = "loop",
    on_progress: Callable[[float], None] | None = None,
) -> DraftResult:
    """The source video with the mouth following the new voice, the voice as its audio."""
    note = ""
    if mode == "remap":
        # Retiming the picture is left to the cloud routes that offer it.
        mode, note = "loop", "Remap is done by cloud routes; the local draft looped the video instead."
    try:
        width, height, fps, video_seconds, source_frames = _source_geometry(video_path)
        seconds = output_seconds(video_seconds, audio_duration(audio_path), mode)
        total = max(1, math.ceil(seconds * fps))
        envelope = voice_envelope(audio_path, fps=float(fps), frames=total)
        out_w, out_h = output_size(width, height)
        tracker = FaceTracker()
        with_face = 0
        with Mp4Writer(output_path, width=out_w, height=out_h, fps=fps) as writer:
            frames = laid_out(
                video_path, mode=mode, total=total, fps=fps, source_frames=source_frames, size=(out_w, out_h)
            )
            for index, yuv in enumerate(frames):
                box = tracker.update(yuv[:out_h])  # the luma plane is the grey picture
                with_face += box is not None
                writer.write_planar(open_mouth_yuv(yuv, box, float(envelope[index])))
                if on_progress and index % PROGRESS_EVERY == 0:
                    on_progress(index / total)
            if writer.frames_written == 0:
                raise RenderError("The source video has no decodable frames.")
            writer.write_audio_track(audio_path, writer.frames_written / float(fps))
    except av.FFmpegError as exc:
        raise RenderError(f"The media could not be decoded: {exc.strerror or exc}") from exc
    if on_progress:
        on_progress(1.0)
    if with_face == 0:
        note = (note + " " if note else "") + "No face was found, so the picture is unchanged."
    return DraftResult(seconds=seconds, frames=total, frames_with_face=with_face, note=note)


def _portrait_pixels(image_path: Path) -> np.ndarray:
    with Image.open(image_path) as image:
        rgb = image.convert("RGB")
        width, height = rgb.size
        out_w, out_h = output_size(width, height)
        if (out_w, out_h) != (width, height):
            rgb = rgb.resize((out_w, out_h), Image.Resampling.LANCZOS)
        return np.asarray(rgb)


def _blink(rgb: np.ndarray, box: FaceBox, closure: float) -> np.ndarray:
    """Squash the eye band towards its middle line: lids closing for a moment."""
    if closure <= 0.02:
        return rgb
    x0, x1 = int(box.x + box.w * 0.12), int(box.x + box.w * 0.88)
    y0, y1 = int(box.y + box.h * 0.22), int(box.y + box.h * 0.50)
    band = rgb[y0:y1, x0:x1].astype(np.float32)
    bh, bw = band.shape[:2]
    if bh < 4 or bw < 4:
        return rgb
    ys, xs = np.mgrid[0:bh, 0:bw].astype(np.float32)
    middle = bh * 0.5
    # Sample rows farther from the middle: the eye's opening shrinks; edges stay put.
    edge_weight = np.sin(np.pi * ys / (bh - 1))
    map_y = middle + (ys - middle) * (1 + closure * 1.5 * edge_weight)
    warped = cv2.remap(band, xs, np.clip(map_y, 0, bh - 1).astype(np.float32), interpolation=cv2.INTER_LINEAR)
    warped *= 1 - 0.15 * closure * edge_weight[..., None]
    out = rgb.copy()
    out[y0:y1, x0:x1] = np.clip(warped, 0, 255).astype(np.uint8)
    return out


def _blink_closure(t: float) -> float:
    """Lids closed for about 150 ms every 3 to 5 seconds (a fixed, natural-looking rhythm)."""
    period = 3.7 + 0.8 * math.sin(t * 0.37)
    phase = t % period
    return max(0.0, 1.0 - abs(phase - 0.075) / 0.075) if phase < 0.15 else 0.0


def _head_motion(rgb: np.ndarray, t: float, box: FaceBox | None) -> np.ndarray:
    """A slow sway and nod: a degree of rotation, a percent of travel, never a jump."""
    height, width = rgb.shape[:2]
    centre = (box.x + box.w / 2, box.y + box.h) if box else (width / 2, height * 0.6)
    angle = 1.2 * math.sin(2 * math.pi * 0.21 * t) + 0.5 * math.sin(2 * math.pi * 0.47 * t)
    matrix = cv2.getRotationMatrix2D(centre, angle, 1.0)
    matrix[0, 2] += width * 0.006 * math.sin(2 * math.pi * 0.13 * t)
    matrix[1, 2] += height * 0.005 * math.sin(2 * math.pi * 0.31 * t + 1.0)
    return cv2.warpAffine(rgb, matrix, (width, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)


def talking_head(
    image_path: Path,
    audio_path: Path,
    output_path: Path,
    *,
    on_progress: Callable[[float], None] | None = None,
) -> DraftResult:
    """A talking-head clip from a still: the mouth follows the voice, the head moves a
    little and the eyes blink, at 25 fps in the portrait's aspect."""
    try:
        still = _portrait_pixels(image_path)
        faces = detect_faces(still)
        box = faces[0] if faces else None
        seconds = audio_duration(audio_path)
        total = max(1, math.ceil(seconds * PORTRAIT_FPS))
        envelope = voice_envelope(audio_path, fps=PORTRAIT_FPS, frames=total)
        height, width = still.shape[:2]
        with Mp4Writer(output_path, width=width, height=height, fps=Fraction(PORTRAIT_FPS)) as writer:
            for index in range(total):
                t = index / PORTRAIT_FPS
                rgb = open_mouth(still, box, float(envelope[index]))
                if box is not None:
                    rgb = _blink(rgb, box, _blink_closure(t))
                writer.write_image(_head_motion(rgb, t, box))
                if on_progress and index % PROGRESS_EVERY == 0:
                    on_progress(index / total)
            writer.write_audio_track(audio_path, total / PORTRAIT_FPS)
    except (av.FFmpegError, OSError) as exc:
        raise RenderError(f"The media could not be decoded: {exc}") from exc
    if on_progress:
        on_progress(1.0)
    note = "" if box else "No face was found in the portrait, so only the head moves."
    return DraftResult(seconds=seconds, frames=total, frames_with_face=total if box else 0, note=note)
