"""Did the mouth move with the speech? A check run on every provider's output.

Paying for an output in which the mouth never moved is a top complaint of lip-sync
users. This tracks the face through the output, measures the mouth region's openness
(how dark the gap between the lips is) and motion energy frame by frame, and correlates
them with the loudness envelope of the voice. It also measures the duration drift
against the voice and grabs a poster frame.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import av
import cv2
import numpy as np
from PIL import Image

from lipsync_site.media.envelope import voice_envelope
from lipsync_site.media.faces import FaceTracker
from lipsync_site.media.render import audio_duration

# Below this, the job page and the admin say "mouth may not be moving".
THRESHOLD = 0.3
ANALYSIS_WIDTH = 360


@dataclass(frozen=True)
class OutputCheck:
    score: float  # 0..1: how well the mouth follows the voice
    mouth_moving: bool
    face_found: bool
    duration_seconds: float
    drift_seconds: float | None  # output length minus voice length
    poster_jpeg: bytes


def _correlation(a: np.ndarray, b: np.ndarray) -> float:
    if a.size < 3 or np.std(a) < 1e-6 or np.std(b) < 1e-6:
        return 0.0
    return float(np.corrcoef(a, b)[0, 1])


def _poster(rgb: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    image = Image.fromarray(rgb)
    image.thumbnail((960, 960))
    image.save(buffer, format="JPEG", quality=82)
    return buffer.getvalue()


def check_output(video_path: Path, audio_path: Path | None = None) -> OutputCheck:
    """Score ``video_path``; the voice comes from ``audio_path`` or the output's own track."""
    openness: list[float] = []
    motion: list[float] = []
    poster_rgb = None
    previous = None
    with av.open(str(video_path), options={"protocol_whitelist": "file"}) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        fps = float(stream.average_rate or 25)
        duration = (container.duration or 0) / av.time_base
        poster_at = duration / 3
        tracker = FaceTracker(every=3, hold_frames=9)
        for frame in container.decode(stream):
            rgb = frame.to_ndarray(format="rgb24")
            if poster_rgb is None and (frame.time or 0) >= poster_at:
                poster_rgb = rgb
            scale = min(1.0, ANALYSIS_WIDTH / rgb.shape[1])
            small = cv2.resize(rgb, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) if scale < 1 else rgb
            box = tracker.update(small)
            if box is None:
                openness.append(np.nan)
                motion.append(np.nan)
                previous = None
                continue
            x0, x1 = int(box.x + box.w * 0.3), int(box.x + box.w * 0.7)
            y0, y1 = int(box.y + box.h * 0.7), int(box.y + box.h * 0.98)
            mouth = cv2.cvtColor(small[y0:y1, x0:x1], cv2.COLOR_RGB2GRAY).astype(np.float32)
            if mouth.size == 0:
                openness.append(np.nan)
                motion.append(np.nan)
                continue
            face_level = float(
                cv2.cvtColor(small, cv2.COLOR_RGB2GRAY)[
                    int(box.y) : int(box.y + box.h), int(box.x) : int(box.x + box.w)
                ].mean()
            )
            # Openness: the share of mouth-region pixels much darker than the face.
            openness.append(float((mouth < face_level * 0.45).mean()))
            if previous is not None and previous.shape == mouth.shape:
                motion.append(float(np.abs(mouth - previous).mean()))
            else:
                motion.append(0.0)
            previous = mouth
        if poster_rgb is None:
            container.seek(0)
            for frame in container.decode(stream):
                poster_rgb = frame.to_ndarray(format="rgb24")
                break
    frames = len(openness)
    voice = audio_path if audio_path is not None else video_path
    try:
        envelope = voice_envelope(voice, fps=fps, frames=frames)
        voice_seconds = audio_duration(audio_path) if audio_path is not None else None
    except Exception:  # an output without sound: nothing to correlate with
        envelope, voice_seconds = np.zeros(frames), None
    openness_arr, motion_arr = np.array(openness), np.array(motion)
    seen = ~np.isnan(openness_arr)
    face_found = bool(seen.sum() >= max(3, frames * 0.2))
    score = 0.0
    if face_found:
        by_openness = _correlation(openness_arr[seen], envelope[seen])
        change = np.abs(np.diff(envelope, prepend=envelope[:1]))
        by_motion = _correlation(motion_arr[seen], change[seen])
        score = float(np.clip(max(by_openness, by_motion), 0.0, 1.0))
    drift = round(duration - voice_seconds, 3) if voice_seconds is not None else None
    return OutputCheck(
        score=round(score, 3),
        mouth_moving=score >= THRESHOLD,
        face_found=face_found,
        duration_seconds=round(duration, 3),
        drift_seconds=drift,
        poster_jpeg=_poster(poster_rgb) if poster_rgb is not None else b"",
    )
