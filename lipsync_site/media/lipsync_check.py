"""Did the mouth move with the speech, in time? A check run on every provider's output.

Paying for an output in which the mouth never moved, or moves a beat late, is a top
complaint of lip-sync users. The check follows the speaker's face through the output by
its landmarks and reads, frame by frame, how far apart the inner lips are. Against the
loudness of the voice (the output's own sound track, or the voice file when the output
has none) it finds:

- the score: the correlation of the lip opening with the voice, at the best lag;
- the offset: that lag, searched within +-500 ms in 5 ms steps (positive: the mouth moves
  after the sound, "late");
- the drift: how much longer or shorter the picture is than the voice.

The result is a plain dataclass the job side stores; the ``describe_*`` functions put the
stored figures in words a marketer understands, and ``problems`` says what to flag.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path

import av
import numpy as np
from django.utils.translation import gettext as _
from PIL import Image

from lipsync_site.durations import seconds_words
from lipsync_site.media.envelope import LOUDNESS_RATE, loudness_track
from lipsync_site.media.faces import FaceBox, FaceTracker, find_faces

THRESHOLD = 0.3  # below this score the mouth "may not be moving" with the voice
MAX_LAG_MS = 500
LAG_STEP_MS = 5
TIE = 0.03  # correlation peaks this close to the best are taken as equally good
IN_TIME_MS = 80  # within this the mouth reads as in time
FLAG_OFFSET_MS = 120  # past this an offset is flagged like a still mouth
FLAG_DRIFT_SECONDS = 1.0
STILL_MOUTH = 0.01  # lip opening that varies less than this (of the eye distance) is still
POSTER_AT = 1 / 3  # of the way into the output


@dataclass(frozen=True)
class FaceSeen:
    """A face in the output's poster frame, numbered left to right as preflight does."""

    index: int
    box: tuple[float, float, float, float]  # x, y, w, h as fractions of the frame
    checked: bool  # the face whose mouth was measured


@dataclass(frozen=True)
class OutputCheck:
    score: float  # 0..1: how well the lip opening follows the voice (at the best lag)
    offset_ms: int | None  # + the mouth is late, - early; None when it cannot be told
    drift_seconds: float | None  # picture length minus voice length
    face_found: bool
    mouth_moving: bool
    poster_jpeg: bytes = field(repr=False)
    faces: tuple[FaceSeen, ...] = ()
    face_share: float = 0.0  # of the frames, those in which the checked face was followed
    video_seconds: float = 0.0
    sound_seconds: float | None = None  # the output's own sound track
    voice_seconds: float | None = None
    openings: tuple[float, ...] = field(default=(), repr=False)  # per frame, NaN without a face

    @property
    def duration_seconds(self) -> float:
        return self.video_seconds

    @property
    def sound_outlasts_picture(self) -> bool:
        return self.sound_seconds is not None and self.sound_seconds > self.video_seconds + 0.5

    @property
    def problems(self) -> list[str]:
        return problems(
            face_found=self.face_found,
            mouth_moving=self.mouth_moving,
            offset_ms=self.offset_ms,
            drift_seconds=self.drift_seconds,
        )

    def in_words(self) -> list[str]:
        return in_words(
            face_found=self.face_found,
            score=self.score,
            offset_ms=self.offset_ms,
            drift_seconds=self.drift_seconds,
            sound_outlasts_picture=self.sound_outlasts_picture,
        )


# --- words ---------------------------------------------------------------------------------
def describe_score(score: float | None, *, face_found: bool = True) -> str:
    if not face_found:
        return _("no face was found in the output")
    if score is None:
        return _("not checked")
    if score >= 0.5:
        return _("the mouth follows the voice closely")
    if score >= THRESHOLD:
        return _("the mouth follows the voice")
    return _("the mouth may not be moving with the voice")


def describe_offset(offset_ms: int | None) -> str:
    """ "mouth in time", "about 200 ms late", "about 120 ms early", or "" when unknown."""
    if offset_ms is None:
        return ""
    if abs(offset_ms) <= IN_TIME_MS:
        return _("mouth in time")
    rounded = round(abs(offset_ms) / 10) * 10
    if offset_ms > 0:
        return _("about %(ms)d ms late") % {"ms": rounded}
    return _("about %(ms)d ms early") % {"ms": rounded}


def _seconds(value: float) -> str:
    return seconds_words(value)


def describe_drift(drift_seconds: float | None, *, sound_outlasts_picture: bool = True) -> str:
    """ "the last 47 s have no picture", "the picture runs 3.0 s past the voice", or ""
    when the lengths match (within half a second)."""
    if drift_seconds is None or abs(drift_seconds) < 0.5:
        return ""
    if drift_seconds < 0:
        missing = _seconds(-drift_seconds)
        if sound_outlasts_picture:
            return _("the last %(seconds)s have no picture") % {"seconds": missing}
        return _("the last %(seconds)s of the voice are missing") % {"seconds": missing}
    return _("the picture runs %(seconds)s past the end of the voice") % {"seconds": _seconds(drift_seconds)}


def in_words(
    *,
    face_found: bool,
    score: float | None,
    offset_ms: int | None,
    drift_seconds: float | None,
    sound_outlasts_picture: bool = True,
) -> list[str]:
    """The check in a few short phrases, most important first."""
    words = [describe_score(score, face_found=face_found)]
    if face_found and score is not None and score >= THRESHOLD and (offset := describe_offset(offset_ms)):
        words.append(offset)
    if drift := describe_drift(drift_seconds, sound_outlasts_picture=sound_outlasts_picture):
        words.append(drift)
    return words


def problems(
    *, face_found: bool, mouth_moving: bool | None, offset_ms: int | None, drift_seconds: float | None
) -> list[str]:
    """Codes of what deserves a warning: no_face, still_mouth, offset, drift."""
    found = []
    if not face_found:
        found.append("no_face")
    elif mouth_moving is False:
        found.append("still_mouth")
    if offset_ms is not None and abs(offset_ms) > FLAG_OFFSET_MS:
        found.append("offset")
    if drift_seconds is not None and abs(drift_seconds) >= FLAG_DRIFT_SECONDS:
        found.append("drift")
    return found


# --- measuring -----------------------------------------------------------------------------
def _poster(rgb: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    image = Image.fromarray(rgb)
    image.thumbnail((960, 960))
    image.save(buffer, format="JPEG", quality=82)
    return buffer.getvalue()


def voice_curve(levels: np.ndarray) -> np.ndarray:
    """A loudness track normalised (95th percentile = 1) with room noise gated out."""
    if levels.size == 0:
        return levels
    peak = np.percentile(levels, 95)
    if peak <= 1e-6:
        return np.zeros_like(levels)
    normalised = np.clip(levels / peak, 0.0, 1.0)
    return np.where(normalised < 0.12, 0.0, normalised)


def best_lag(openings: np.ndarray, curve: np.ndarray, *, fps: float, rate: int = LOUDNESS_RATE):
    """(score, offset_ms): the correlation of the lip opening with the voice at the lag
    that maximises it within +-MAX_LAG_MS, and that lag (positive: mouth late)."""
    seen = ~np.isnan(openings)
    if seen.sum() < 8 or curve.size < 8 or np.nanstd(openings) < STILL_MOUTH:
        return 0.0, None
    # The voice averaged over one frame's time, then read at each frame's middle minus the lag.
    width = max(1, round(rate / fps))
    smoothed = np.convolve(curve, np.ones(width) / width, mode="same")
    grid = np.arange(curve.size) / rate
    mids = (np.arange(openings.size) + 0.5) / fps
    lags = np.arange(-MAX_LAG_MS, MAX_LAG_MS + 1, LAG_STEP_MS)
    correlations = np.full(lags.size, -1.0)
    for position, lag_ms in enumerate(lags):
        times = mids - lag_ms / 1000.0
        inside = seen & (times >= 0) & (times <= grid[-1])
        if inside.sum() < 8:
            continue
        voice = np.interp(times[inside], grid, smoothed)
        mouth = openings[inside]
        if np.std(voice) < 1e-9 or np.std(mouth) < 1e-9:
            continue
        correlations[position] = float(np.corrcoef(mouth, voice)[0, 1])
    best = float(correlations.max())
    score = float(np.clip(best, 0.0, 1.0))
    if score < THRESHOLD:
        return score, None
    # A rhythmic voice fits as well one syllable early or late: of the peaks that fit
    # (nearly) as well as the best, the one nearest in time is the offset.
    peaks = [
        position
        for position in range(lags.size)
        if correlations[position] >= best - TIE
        and correlations[position] >= correlations[max(0, position - 1)]
        and correlations[position] >= correlations[min(lags.size - 1, position + 1)]
    ]
    nearest = min(peaks, key=lambda position: abs(lags[position]))
    return score, int(lags[nearest])


def _sound_seconds(container) -> float | None:
    if not container.streams.audio:
        return None
    stream = container.streams.audio[0]
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    return None


def _faces_on(rgb: np.ndarray, checked: FaceBox | None) -> tuple[FaceSeen, ...]:
    height, width = rgb.shape[:2]
    faces = sorted(find_faces(rgb), key=lambda face: face.box.centre[0])
    nearest = None
    if checked is not None and faces:
        nearest = max(range(len(faces)), key=lambda i: faces[i].box.iou(checked))
        if faces[nearest].box.iou(checked) < 0.2:
            nearest = None
    return tuple(
        FaceSeen(index=i + 1, box=tuple(face.box.fractions(width, height)), checked=i == nearest)
        for i, face in enumerate(faces)
    )


def check_output(
    video_path: Path, audio_path: Path | None = None, *, speaker: list[float] | tuple[float, ...] | None = None
) -> OutputCheck:
    """Check ``video_path``. ``audio_path`` is the voice it was made for (its length is
    what the picture should last); ``speaker`` the chosen face as [x, y, w, h] fractions
    (without it, the largest face)."""
    openings: list[float] = []
    poster_rgb, poster_faces = None, ()
    with av.open(str(video_path), options={"protocol_whitelist": "file"}) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        fps = float(stream.average_rate or stream.guessed_rate or 25)
        width, height = stream.codec_context.width, stream.codec_context.height
        expected = (container.duration or 0) / av.time_base
        sound_seconds = _sound_seconds(container)
        target = FaceBox.from_fractions(speaker, width, height) if speaker else None
        tracker = FaceTracker(target=target, smoothing=False)
        for frame in container.decode(stream):
            gray = frame.to_ndarray(format="gray")
            marks = tracker.update(gray)
            openings.append(marks.relative_opening() if marks is not None else np.nan)
            if poster_rgb is None and (frame.time or 0) >= expected * POSTER_AT:
                poster_rgb = frame.to_ndarray(format="rgb24")
                poster_faces = _faces_on(poster_rgb, tracker.box)
        if poster_rgb is None:
            container.seek(0)
            for frame in container.decode(stream):
                poster_rgb = frame.to_ndarray(format="rgb24")
                poster_faces = _faces_on(poster_rgb, None)
                break
    frames = len(openings)
    video_seconds = frames / fps if fps else 0.0
    openings_array = np.array(openings, dtype=np.float64)
    face_share = float((~np.isnan(openings_array)).mean()) if frames else 0.0
    face_found = bool(frames and (~np.isnan(openings_array)).sum() >= max(3, frames * 0.2))

    voice_seconds = None
    if audio_path is not None:
        from lipsync_site.media.render import audio_duration

        voice_seconds = audio_duration(audio_path)
    curve = np.zeros(0)
    for source in (video_path if sound_seconds is not None else None, audio_path):
        if source is None:
            continue
        try:
            curve = voice_curve(loudness_track(source))
            break
        except (av.FFmpegError, IndexError):
            continue  # an output without sound: try the voice file
    score, offset_ms = best_lag(openings_array, curve, fps=fps) if face_found else (0.0, None)
    reference = voice_seconds if voice_seconds is not None else sound_seconds
    drift = round(video_seconds - reference, 3) if reference is not None else None
    return OutputCheck(
        score=round(score, 3),
        offset_ms=offset_ms,
        drift_seconds=drift,
        face_found=face_found,
        mouth_moving=face_found and score >= THRESHOLD,
        poster_jpeg=_poster(poster_rgb) if poster_rgb is not None else b"",
        faces=poster_faces,
        face_share=round(face_share, 3),
        video_seconds=round(video_seconds, 3),
        sound_seconds=round(sound_seconds, 3) if sound_seconds is not None else None,
        voice_seconds=round(voice_seconds, 3) if voice_seconds is not None else None,
        openings=tuple(float(value) for value in openings_array),
    )
