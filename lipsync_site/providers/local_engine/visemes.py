"""Mouth shapes from the voice: simple spectral features per video frame, smoothed.

Four shapes, told apart by where the voice's energy sits:

- closed (m, b, p): silence, a stop's closure, or a nasal hum (energy only below 400 Hz,
  quieter than the vowels around it);
- open (a): a strong first formant (400-1000 Hz) against the voicing band;
- wide (e, i): a strong second formant (1.4-2.8 kHz) with a low first formant;
- rounded (o, u): energy low in the spectrum, little second formant.

Fricatives (s, f: hiss above 3 kHz) keep the mouth nearly closed and a little wide. The
result per frame is a ``MouthShape``: how open and how wide the shape is, and how strongly
to apply it (the voice's loudness).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from lipsync_site.media.envelope import speech_envelope, voice_frames, zero_phase
from lipsync_site.providers.local_engine.mouth import MouthShape

CLOSED, OPEN, WIDE, ROUNDED = "closed", "open", "wide", "rounded"
# How open each shape is at full voice (1 = MAX_OPENING in mouth.py) and its width.
SHAPE_OPENING = {CLOSED: 0.0, OPEN: 1.0, WIDE: 0.45, ROUNDED: 0.6}
SHAPE_WIDTH = {CLOSED: 0.0, OPEN: 0.1, WIDE: 1.0, ROUNDED: -1.0}


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(x, -30, 30)))


LPC_ORDER = 10  # an all-pole model of the vocal tract below 4 kHz: five resonances
FORMANT_BAND = 4000.0
PRE_EMPHASIS = 0.94


def _levinson(autocorrelation: np.ndarray, order: int) -> np.ndarray:
    """Prediction coefficients (1, a1..a_order) for each row, by Levinson-Durbin."""
    rows = autocorrelation.shape[0]
    coefficients = np.zeros((rows, order + 1))
    coefficients[:, 0] = 1.0
    error = autocorrelation[:, 0].copy()
    for i in range(1, order + 1):
        acc = autocorrelation[:, i] + (coefficients[:, 1:i] * autocorrelation[:, i - 1 : 0 : -1]).sum(axis=1)
        reflection = -acc / np.maximum(error, 1e-12)
        previous = coefficients.copy()
        coefficients[:, 1:i] = previous[:, 1:i] + reflection[:, None] * previous[:, i - 1 : 0 : -1]
        coefficients[:, i] = reflection
        error = error * (1.0 - reflection**2)
    return coefficients


def measure_formants(power: np.ndarray, freqs: np.ndarray) -> np.ndarray:
    """Per frame: the first two formants (Hz, NaN when none shows), the share of energy
    above 1 kHz (low for a hum) and the share above 3 kHz (high for hiss)."""
    below = freqs <= FORMANT_BAND
    omega = np.pi * freqs[below] / FORMANT_BAND
    emphasised = power[:, below] * (1 + PRE_EMPHASIS**2 - 2 * PRE_EMPHASIS * np.cos(omega))
    autocorrelation = np.fft.irfft(emphasised, axis=1)[:, : LPC_ORDER + 1]
    autocorrelation[:, 0] = autocorrelation[:, 0] * 1.001 + 1e-12  # a little noise floor
    envelope = 1.0 / np.maximum(np.abs(np.fft.rfft(_levinson(autocorrelation, LPC_ORDER), n=512, axis=1)) ** 2, 1e-12)
    grid = np.linspace(0.0, FORMANT_BAND, envelope.shape[1])
    peak = np.zeros_like(envelope, dtype=bool)
    peak[:, 1:-1] = (envelope[:, 1:-1] > envelope[:, :-2]) & (envelope[:, 1:-1] >= envelope[:, 2:])
    peak &= (grid > 180.0) & (grid < 3800.0)
    formants = np.full((power.shape[0], 2), np.nan)
    for column in range(2):
        has = peak.any(axis=1)
        first = peak.argmax(axis=1)
        formants[has, column] = grid[first[has]]
        peak[np.arange(peak.shape[0]), first] = False
    total = power[:, (freqs >= 80) & (freqs < 7500)].sum(axis=1) + 1e-12
    above_1k = power[:, (freqs >= 1000) & (freqs < 7500)].sum(axis=1) / total
    hiss = power[:, (freqs >= 3000) & (freqs < 7500)].sum(axis=1) / total
    return np.column_stack([formants, above_1k, hiss])


def shape_weights(levels: np.ndarray, features: np.ndarray) -> dict[str, np.ndarray]:
    """Per frame, how much each of the four shapes fits (they sum to 1)."""
    first, second, above_1k, hiss = (features[:, column] for column in range(4))
    first = np.nan_to_num(first, nan=300.0)
    second = np.nan_to_num(second, nan=1000.0)
    loud = np.percentile(levels, 95) if levels.size else 0.0
    voiced = levels > 0.12 * loud
    typical = np.median(levels[voiced]) if voiced.any() else 0.0

    open_w = _sigmoid((first - 600.0) / 50.0)  # a: F1 about 730 Hz; the rest under 600
    front_w = _sigmoid((second - 1500.0) / 120.0)  # e, i: F2 above 1800; o, u under 900
    wide_w = (1 - open_w) * front_w
    round_w = (1 - open_w) * (1 - front_w)
    # A hum (m, n): next to nothing above 1 kHz and quieter than the vowels around it.
    hum = _sigmoid((0.02 - above_1k) / 0.006) * (levels < 0.6 * typical)
    closed_w = np.maximum(hum, (~voiced).astype(np.float64))
    keep = 1 - closed_w
    weights = {CLOSED: closed_w, OPEN: open_w * keep, WIDE: wide_w * keep, ROUNDED: round_w * keep}
    # Fricatives (s, f): mostly hiss, so the teeth come together and the lips widen a little.
    fricative = _sigmoid((hiss - 0.5) / 0.08) * keep
    weights[WIDE] = weights[WIDE] + fricative * (weights[OPEN] + weights[ROUNDED])
    weights[OPEN] = weights[OPEN] * (1 - fricative)
    weights[ROUNDED] = weights[ROUNDED] * (1 - fricative)
    return weights


def dominant_shapes(weights: dict[str, np.ndarray]) -> list[str]:
    names = list(weights)
    stacked = np.stack([weights[name] for name in names])
    return [names[index] for index in stacked.argmax(axis=0)]


def mouth_shapes(audio_path: Path, *, fps: float, frames: int) -> list[MouthShape]:
    """A ``MouthShape`` for each of ``frames`` video frames of the voice."""
    voice = voice_frames(audio_path, fps=fps, frames=frames, measure=measure_formants)
    return shapes_from(voice.levels, voice.features)


def shapes_from(levels: np.ndarray, features: np.ndarray) -> list[MouthShape]:
    if levels.size == 0:
        return []
    weights = shape_weights(levels, features)
    opening = sum(weights[name] * SHAPE_OPENING[name] for name in weights)
    width = sum(weights[name] * SHAPE_WIDTH[name] for name in weights)
    # Shapes glide (about 60 ms each way, no lag); loudness sets how far each is taken.
    opening = np.clip(zero_phase(opening, 0.55), 0.0, 1.0)
    width = np.clip(zero_phase(width, 0.45), -1.0, 1.0)
    strength = speech_envelope(levels)
    return [
        MouthShape(opening=float(o), width=float(w), strength=float(s))
        for o, w, s in zip(opening, width, strength, strict=True)
    ]
