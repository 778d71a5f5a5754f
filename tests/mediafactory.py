"""Media the tests make themselves: short videos, voices and portraits written with PyAV."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from PIL import Image


def make_audio(
    path: Path,
    *,
    seconds: float = 2.0,
    freq: float = 220.0,
    rate: int = 44_100,
    amplitude: float = 0.4,
    speechlike: bool = True,
) -> Path:
    """A tone, chopped into syllable-like bursts when ``speechlike`` so envelopes move.

    The container follows the suffix: .wav, .mp3, .m4a, .aac.
    """
    suffix = path.suffix.lower()
    codec, fmt, container_format = {
        ".wav": ("pcm_s16le", "s16", "wav"),
        ".mp3": ("libmp3lame", "fltp", "mp3"),
        ".m4a": ("aac", "fltp", "mp4"),
        ".aac": ("aac", "fltp", "adts"),
    }[suffix]
    samples = int(seconds * rate)
    t = np.arange(samples) / rate
    wave = amplitude * np.sin(2 * np.pi * freq * t)
    if speechlike:
        wave *= 0.5 * (1 + np.sign(np.sin(2 * np.pi * 3.0 * t)))  # 3 bursts a second
    with av.open(str(path), mode="w", format=container_format) as container:
        stream = container.add_stream(codec, rate=rate)
        stream.layout = "mono"
        chunk = 1152
        for start in range(0, samples, chunk):
            part = wave[start : start + chunk]
            if fmt == "s16":
                data = (part * 32767).astype(np.int16).reshape(1, -1)
            else:
                data = part.astype(np.float32).reshape(1, -1)
            frame = av.AudioFrame.from_ndarray(data, format=fmt, layout="mono")
            frame.sample_rate = rate
            frame.pts = start
            frame.time_base = Fraction(1, rate)
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path


def make_video(
    path: Path,
    *,
    seconds: float = 2.0,
    width: int = 320,
    height: int = 240,
    fps: int = 25,
    with_audio: bool = False,
    picture: np.ndarray | None = None,
) -> Path:
    """A moving test pattern (or ``picture``, an RGB array) as a short video.

    The container follows the suffix: .mp4, .mov, .mkv, .webm, .avi.
    """
    suffix = path.suffix.lower()
    video_codec, audio_codec = {
        ".mp4": ("libx264", "aac"),
        ".mov": ("libx264", "aac"),
        ".mkv": ("libx264", "aac"),
        ".webm": ("libvpx", "libopus"),
        ".avi": ("mpeg4", "mp3"),
    }[suffix]
    frames = int(seconds * fps)
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream(video_codec, rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        audio_stream = None
        if with_audio:
            audio_stream = container.add_stream(audio_codec, rate=48_000)
            audio_stream.layout = "mono"
        for index in range(frames):
            if picture is not None:
                rgb = picture
            else:
                rgb = np.zeros((height, width, 3), dtype=np.uint8)
                rgb[:, :, 0] = (index * 8) % 256
                rgb[:, :, 1] = np.linspace(0, 255, width, dtype=np.uint8)[None, :]
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
            frame.pts = index
            frame.time_base = Fraction(1, fps)
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
        if audio_stream is not None:
            rate = 48_000
            total = int(seconds * rate)
            for start in range(0, total, 960):
                count = min(960, total - start)
                data = (0.2 * np.sin(2 * np.pi * 330 * (start + np.arange(count)) / rate)).astype(np.float32)
                frame = av.AudioFrame.from_ndarray(
                    data.reshape(1, -1), format="flt" if audio_codec == "libopus" else "fltp", layout="mono"
                )
                frame.sample_rate = rate
                frame.pts = start
                frame.time_base = Fraction(1, rate)
                container.mux(audio_stream.encode(frame))
            container.mux(audio_stream.encode(None))
    return path


def make_image(path: Path, *, width: int = 640, height: int = 640, picture: np.ndarray | None = None) -> Path:
    """A still in the format its suffix names (.png, .jpg, .gif, .webp)."""
    if picture is None:
        picture = np.zeros((height, width, 3), dtype=np.uint8)
        picture[:, :, 2] = np.linspace(0, 255, width, dtype=np.uint8)[None, :]
    Image.fromarray(picture).save(path)
    return path


def astronaut() -> np.ndarray:
    """scikit-image's bundled public-domain portrait, in which the Haar cascade finds a face."""
    from skimage import data

    return np.ascontiguousarray(data.astronaut())


def make_face_video(path: Path, *, seconds: float = 2.0, size: int = 320, fps: int = 25) -> Path:
    """The astronaut portrait, scaled, as a still-picture video: a real face to animate."""
    import cv2

    picture = cv2.resize(astronaut(), (size, size), interpolation=cv2.INTER_AREA)
    return make_video(path, seconds=seconds, width=size, height=size, fps=fps, picture=picture)
