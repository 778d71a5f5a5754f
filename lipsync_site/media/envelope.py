"""The voice, measured per video frame: loudness and a coarse spectrum.

Everything streams: the track is decoded to 16 kHz mono chunk by chunk and only per-frame
figures are kept, so memory does not grow with the length of the voice beyond a few
floats a frame.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np

ANALYSIS_RATE = 16_000
LOUDNESS_RATE = 200  # samples a second of the fine loudness track (5 ms)


def iter_mono(path: Path, rate: int = ANALYSIS_RATE) -> Iterator[np.ndarray]:
    """The first audio stream as float32 mono chunks at ``rate``."""
    resampler = av.AudioResampler(format="flt", layout="mono", rate=rate)
    with av.open(str(path), options={"protocol_whitelist": "file"}) as container:
        stream = container.streams.audio[0]
        for frame in container.decode(stream):
            frame.pts = None
            for out in resampler.resample(frame):
                yield out.to_ndarray().reshape(-1).astype(np.float32, copy=False)
    for out in resampler.resample(None):
        yield out.to_ndarray().reshape(-1).astype(np.float32, copy=False)


@dataclass(frozen=True)
class VoiceFrames:
    """One row per video frame."""

    levels: np.ndarray  # RMS level, Hann-weighted over two frames' time around the frame
    features: np.ndarray  # (frames, k): what ``measure`` found in each frame's spectrum


# A measure takes a batch of power spectra (frames x bins) and the bins' frequencies and
# returns a fixed number of figures per frame.
Measure = Callable[[np.ndarray, np.ndarray], np.ndarray]


def _windowed_frames(path: Path, *, hop: float, window: int, frames: int) -> Iterator[tuple[int, np.ndarray]]:
    """(first frame index, 2-D array of windows) in batches; window k is centred on the
    middle of video frame k. Past the end of the track the windows are silence."""
    half = window // 2
    pending = np.zeros(half, dtype=np.float32)  # silence before the start, for frame 0's window
    offset = -half  # stream position of pending[0]
    next_frame = 0

    def ready(upto: int) -> Iterator[tuple[int, np.ndarray]]:
        nonlocal pending, offset, next_frame
        starts = []
        index = next_frame
        while index < frames:
            start = round((index + 0.5) * hop) - half
            if start + window > upto:
                break
            starts.append(start - offset)
            index += 1
        if not starts:
            return
        view = np.lib.stride_tricks.sliding_window_view(pending, window)
        yield next_frame, view[np.array(starts)]
        next_frame = index
        keep_from = round((next_frame + 0.5) * hop) - half - offset
        if keep_from > 0:
            pending = pending[keep_from:]
            offset += keep_from

    received = 0
    try:
        for chunk in iter_mono(path):
            pending = np.concatenate([pending, chunk])
            received += chunk.size
            yield from ready(received)
            if next_frame >= frames:
                return
    except (av.FFmpegError, IndexError):
        if received == 0:
            raise
    while next_frame < frames:
        # Pad with silence to finish the frames that run past the end of the voice.
        pending = np.concatenate([pending, np.zeros(max(window, round(hop) * 64), dtype=np.float32)])
        received = offset + pending.size
        yield from ready(received)


def voice_frames(audio_path: Path, *, fps: float, frames: int, measure: Measure | None = None) -> VoiceFrames:
    """The voice's level in each of ``frames`` video frames and, when a ``measure`` is
    given, what it finds in each frame's spectrum (a window two frames long, centred on
    the frame)."""
    hop = ANALYSIS_RATE / fps
    window = max(64, round(2 * hop))
    nfft = 1 << (window - 1).bit_length()
    hann = np.hanning(window).astype(np.float32)
    norm = float(np.mean(hann**2))
    freqs = np.fft.rfftfreq(nfft, 1.0 / ANALYSIS_RATE)
    levels = np.zeros(frames, dtype=np.float64)
    features = None
    if frames <= 0:
        return VoiceFrames(levels, np.zeros((0, 0)))
    for first, windows in _windowed_frames(audio_path, hop=hop, window=window, frames=frames):
        shaped = windows * hann
        count = shaped.shape[0]
        levels[first : first + count] = np.sqrt(np.mean(shaped**2, axis=1) / norm)
        if measure is not None:
            power = np.abs(np.fft.rfft(shaped, n=nfft, axis=1)) ** 2
            found = np.asarray(measure(power, freqs), dtype=np.float64)
            if features is None:
                features = np.zeros((frames, found.shape[1]), dtype=np.float64)
            features[first : first + count] = found
    return VoiceFrames(levels, features if features is not None else np.zeros((frames, 0)))


def loudness_track(audio_path: Path, *, rate: int = LOUDNESS_RATE) -> np.ndarray:
    """RMS level every 1/``rate`` s over 20 ms: fine enough to time a mouth against."""
    slot = ANALYSIS_RATE // rate
    squares: list[np.ndarray] = []
    carry = np.zeros(0, dtype=np.float32)
    for chunk in iter_mono(audio_path):
        carry = np.concatenate([carry, chunk])
        usable = carry.size - carry.size % slot
        if usable:
            squares.append((carry[:usable].reshape(-1, slot).astype(np.float64) ** 2).mean(axis=1))
            carry = carry[usable:]
    if carry.size:
        squares.append(np.array([float((carry.astype(np.float64) ** 2).mean())]))
    if not squares:
        return np.zeros(0)
    power = np.concatenate(squares)
    width = max(1, round(0.02 * rate))
    return np.sqrt(np.convolve(power, np.ones(width) / width, mode="same"))


def zero_phase(values: np.ndarray, weight: float) -> np.ndarray:
    """A one-pole smoother run forwards and then backwards: smooth, and no lag."""
    if values.size == 0:
        return values
    out = np.empty_like(values, dtype=np.float64)
    current = float(values[0])
    for index, value in enumerate(values):
        current += weight * (value - current)
        out[index] = current
    current = float(out[-1])
    for index in range(values.size - 1, -1, -1):
        current += weight * (out[index] - current)
        out[index] = current
    return out


def speech_envelope(levels: np.ndarray, *, gate: float = 0.12, smoothing: float = 0.6) -> np.ndarray:
    """Loudness shaped for a mouth: normalised to 0..1 (the 95th percentile is 1), room
    noise gated out, smoothed without lag."""
    if levels.size == 0:
        return np.zeros(0)
    peak = np.percentile(levels, 95)
    if peak <= 1e-6:
        return np.zeros_like(levels, dtype=np.float64)
    normalised = np.clip(levels / peak, 0.0, 1.0)
    normalised = np.where(normalised < gate, 0.0, (normalised - gate) / (1.0 - gate))
    return np.clip(zero_phase(normalised, smoothing), 0.0, 1.0)


def voice_envelope(audio_path: Path, *, fps: float, frames: int) -> np.ndarray:
    return speech_envelope(voice_frames(audio_path, fps=fps, frames=frames).levels)
