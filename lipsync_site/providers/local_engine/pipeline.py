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

from lipsync_site.media.faces import FaceBox, FaceTracker, Landmarks, choose_face, find_faces, landmarks_in
from lipsync_site.media.frames import laid_out, planar
from lipsync_site.media.render import (
    Mp4Writer,
    RenderError,
    audio_duration,
    fitted_seconds,
    output_size,
    video_geometry,
)
from lipsync_site.providers.local_engine.mouth import animate_rgb, animate_yuv
from lipsync_site.providers.local_engine.visemes import mouth_shapes

PORTRAIT_FPS = 25
PROGRESS_EVERY = 10


@dataclass(frozen=True)
class DraftResult:
    seconds: float
    frames: int
    frames_with_face: int
    note: str = ""

    @property
    def face_share(self) -> float:
        return self.frames_with_face / self.frames if self.frames else 0.0


def _speaker_box(speaker: list[float] | tuple[float, ...] | None, width: int, height: int) -> FaceBox | None:
    """The chosen face ([x, y, w, h] as fractions of the frame, from preflight) in pixels."""
    if not speaker:
        return None
    return FaceBox.from_fractions(speaker, width, height)


def _face_note(with_face: int, total: int, chosen: bool) -> str:
    who = "The chosen face" if chosen else "No face"
    if with_face == 0:
        return f"{who} was {'not found' if chosen else 'found'}, so the picture is unchanged."
    if with_face < total * 0.9:
        share = with_face / total
        return f"The face was followed in {share:.0%} of the frames; elsewhere the picture is unchanged."
    return ""


def resync_video(
    video_path: Path,
    audio_path: Path,
    output_path: Path,
    *,
    mode: str = "loop",
    speaker: list[float] | tuple[float, ...] | None = None,
    on_progress: Callable[[float], None] | None = None,
) -> DraftResult:
    """The source video with the chosen face's mouth following the new voice, the voice
    as its audio.

    ``speaker`` is the face to animate as [x, y, w, h] fractions of the frame (a face
    preflight found, see ``media.selectors.speaker_faces``); without it, the largest face.
    Only that face moves: it is followed through the clip by its landmarks.
    """
    try:
        geometry = video_geometry(video_path)
        seconds = fitted_seconds(geometry, audio_duration(audio_path), mode)
        fps = geometry.fps
        total = max(1, math.ceil(seconds * fps))
        shapes = mouth_shapes(audio_path, fps=float(fps), frames=total)
        out_w, out_h = output_size(geometry.width, geometry.height)
        tracker = FaceTracker(target=_speaker_box(speaker, out_w, out_h), smoothing=True)
        with Mp4Writer(output_path, width=out_w, height=out_h, fps=fps) as writer:
            frames = laid_out(video_path, mode=mode, total=total, fps=fps, source_frames=geometry.frames)
            for index, frame in enumerate(frames):
                yuv = planar(frame, (out_w, out_h))
                marks = tracker.update(yuv[:out_h])  # the luma plane is the grey picture
                writer.write_planar(animate_yuv(yuv, marks, shapes[index]))
                if on_progress and index % PROGRESS_EVERY == 0:
                    on_progress(index / total)
            if writer.frames_written == 0:
                raise RenderError("The source video has no decodable frames.")
            written = writer.frames_written
            writer.write_audio_track(audio_path, written / float(fps))
    except av.FFmpegError as exc:
        raise RenderError(f"The media could not be decoded: {exc.strerror or exc}") from exc
    if on_progress:
        on_progress(1.0)
    note = _face_note(tracker.frames_with_face, written, chosen=speaker is not None)
    return DraftResult(
        seconds=written / float(fps), frames=written, frames_with_face=tracker.frames_with_face, note=note
    )


def _portrait_pixels(image_path: Path) -> np.ndarray:
    with Image.open(image_path) as image:
        rgb = image.convert("RGB")
        width, height = rgb.size
        out_w, out_h = output_size(width, height)
        if (out_w, out_h) != (width, height):
            rgb = rgb.resize((out_w, out_h), Image.Resampling.LANCZOS)
        return np.asarray(rgb)


def _blink(rgb: np.ndarray, marks: Landmarks, closure: float) -> np.ndarray:
    """Lids closing for a moment: each eye's band squashed towards its middle line."""
    if closure <= 0.02:
        return rgb
    out = rgb
    for eye in (marks.points[36:42], marks.points[42:48]):
        (ex0, ey0), (ex1, ey1) = eye.min(axis=0), eye.max(axis=0)
        pad_x, pad_y = (ex1 - ex0) * 0.35, (ex1 - ex0) * 0.45
        x0, x1 = int(max(0, ex0 - pad_x)), int(min(rgb.shape[1], ex1 + pad_x))
        y0, y1 = int(max(0, ey0 - pad_y)), int(min(rgb.shape[0], ey1 + pad_y))
        band = out[y0:y1, x0:x1].astype(np.float32)
        bh, bw = band.shape[:2]
        if bh < 4 or bw < 4:
            continue
        ys, xs = np.mgrid[0:bh, 0:bw].astype(np.float32)
        middle = (ey0 + ey1) / 2 - y0
        # Sample rows farther from the middle: the opening shrinks; the band's edges stay.
        edge = np.sin(np.pi * ys / (bh - 1)) * np.sin(np.pi * xs / (bw - 1))
        map_y = middle + (ys - middle) * (1 + closure * 1.6 * edge)
        warped = cv2.remap(band, xs, np.clip(map_y, 0, bh - 1).astype(np.float32), interpolation=cv2.INTER_LINEAR)
        warped *= 1 - 0.12 * closure * edge[..., None]
        if out is rgb:
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
    speaker: list[float] | tuple[float, ...] | None = None,
    on_progress: Callable[[float], None] | None = None,
) -> DraftResult:
    """A talking-head clip from a still: the mouth follows the voice, the head moves a
    little and the eyes blink, at 25 fps in the portrait's aspect."""
    try:
        still = _portrait_pixels(image_path)
        height, width = still.shape[:2]
        face = choose_face(find_faces(still), _speaker_box(speaker, width, height))
        marks = landmarks_in(cv2.cvtColor(still, cv2.COLOR_RGB2GRAY), face.box) if face else None
        seconds = audio_duration(audio_path)
        total = max(1, math.ceil(seconds * PORTRAIT_FPS))
        shapes = mouth_shapes(audio_path, fps=PORTRAIT_FPS, frames=total)
        with Mp4Writer(output_path, width=width, height=height, fps=Fraction(PORTRAIT_FPS)) as writer:
            for index in range(total):
                t = index / PORTRAIT_FPS
                rgb = animate_rgb(still, marks, shapes[index])
                if marks is not None:
                    rgb = _blink(rgb, marks, _blink_closure(t))
                writer.write_image(_head_motion(rgb, t, face.box if face else None))
                if on_progress and index % PROGRESS_EVERY == 0:
                    on_progress(index / total)
            writer.write_audio_track(audio_path, total / PORTRAIT_FPS)
    except (av.FFmpegError, OSError) as exc:
        raise RenderError(f"The media could not be decoded: {exc}") from exc
    if on_progress:
        on_progress(1.0)
    note = "" if face else "No face was found in the portrait, so only the head moves."
    return DraftResult(seconds=seconds, frames=total, frames_with_face=total if face else 0, note=note)
