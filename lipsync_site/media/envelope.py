"""The voice's loudness per video frame, shaped to look like speech, not flicker."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from lipsync_site.media.render import OUTPUT_AUDIO_RATE, iter_audio_frames


def rms_per_frame(audio_path: Path, *, fps: float, frames: int) -> np.ndarray:
    """Root-mean-square level of the voice in each video frame's time slot."""
    hop = OUTPUT_AUDIO_RATE / fps
    sums = np.zeros(frames, dtype=np.float64)
    counts = np.zeros(frames, dtype=np.float64)
    position = 0
    for frame in iter_audio_frames(audio_path):
        mono = frame.to_ndarray().mean(axis=0)
        indices = ((position + np.arange(mono.size)) / hop).astype(np.int64)
        position += mono.size
        inside = indices < frames
        if not inside.any():
            break
        np.add.at(sums, indices[inside], mono[inside].astype(np.float64) ** 2)
        np.add.at(counts, indices[inside], 1)
    return np.sqrt(np.divide(sums, counts, out=np.zeros_like(sums), where=counts > 0))


def speech_envelope(
    levels: np.ndarray, *, attack: float = 0.65, release: float = 0.3, gate: float = 0.12
) -> np.ndarray:
    """Normalise to 0..1, gate out room noise, and follow with attack/release smoothing:
    the mouth opens quickly on a syllable and closes a little slower."""
    if levels.size == 0:
        return levels
    peak = np.percentile(levels, 95)
    if peak <= 1e-6:
        return np.zeros_like(levels)
    normalised = np.clip(levels / peak, 0.0, 1.0)
    normalised = np.where(normalised < gate, 0.0, (normalised - gate) / (1.0 - gate))
    shaped = np.empty_like(normalised)
    current = 0.0
    for index, target in enumerate(normalised):
        coefficient = attack if target > current else release
        current += coefficient * (target - current)
        shaped[index] = current
    return shaped


def voice_envelope(audio_path: Path, *, fps: float, frames: int) -> np.ndarray:
    return speech_envelope(rms_per_frame(audio_path, fps=fps, frames=frames))
