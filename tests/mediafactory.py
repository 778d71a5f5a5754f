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


# Formants (Hz) and bandwidths of a few vowels (an adult voice, after Peterson & Barney).
VOWEL_FORMANTS = {
    "a": ((730, 90), (1090, 110), (2440, 160)),
    "e": ((530, 70), (1840, 100), (2480, 160)),
    "i": ((270, 60), (2290, 100), (3010, 170)),
    "o": ((570, 80), (840, 90), (2410, 160)),
    "u": ((300, 60), (870, 90), (2240, 160)),
}
NASAL_FORMANTS = ((250, 60), (2200, 300), (3000, 400))


def _resonance(freqs: np.ndarray, centre: float, bandwidth: float) -> np.ndarray:
    ratio = freqs / centre
    return 1.0 / np.sqrt((1 - ratio**2) ** 2 + (freqs * bandwidth / centre**2) ** 2)


def speech_script(text: str = "ma pi mo te pa su mi ta ", *, syllable: float = 0.24) -> list[tuple[str, float, float]]:
    """(sound, start, end) for each sound of ``text``: vowels, the consonants m, p, t, s
    and spaces (pauses). Each syllable lasts ``syllable`` seconds."""
    script, t = [], 0.0
    for chunk in text.split(" "):
        if not chunk:
            script.append((" ", t, t + syllable * 0.6))
            t += syllable * 0.6
            continue
        for index in range(0, len(chunk), 2):
            consonant, vowel = chunk[index], chunk[index + 1]
            script.append((consonant, t, t + syllable * 0.3))
            script.append((vowel, t + syllable * 0.3, t + syllable))
            t += syllable
    return script


def make_speech(
    path: Path, *, seconds: float = 4.0, text: str = "ma pi mo te pa su mi ta ", rate: int = 44_100, f0: float = 120.0
) -> Path:
    """A synthetic voice speaking ``text`` (repeated to fill ``seconds``): a glottal
    harmonic series shaped by each vowel's formants, hums for m, silence and a burst for
    p and t, hiss for s. Enough like speech for mouth shapes and envelopes to move as
    they do with a real voice. WAV only."""
    script = []
    offset = 0.0
    while offset < seconds:
        part = speech_script(text)
        script += [(sound, start + offset, end + offset) for sound, start, end in part]
        offset += part[-1][2]
    samples = int(seconds * rate)
    t = np.arange(samples) / rate
    out = np.zeros(samples, dtype=np.float64)
    rng = np.random.default_rng(7)
    # Pitch wanders a little, as a voice does.
    pitch = f0 * (1 + 0.06 * np.sin(2 * np.pi * 0.7 * t))
    phase = 2 * np.pi * np.cumsum(pitch) / rate
    for sound, start, end in script:
        a, b = int(start * rate), min(samples, int(end * rate))
        if a >= samples or b <= a:
            continue
        n = b - a
        ramp = np.minimum(1.0, np.minimum(np.arange(n), np.arange(n)[::-1]) / (0.015 * rate))
        if sound in VOWEL_FORMANTS or sound == "m":
            formants = VOWEL_FORMANTS.get(sound, NASAL_FORMANTS)
            level = 1.0 if sound != "m" else 0.25
            segment = np.zeros(n)
            for harmonic in range(1, 40):
                freq = harmonic * pitch[a:b]
                # A cascade of resonances, as in a vocal tract (Klatt); the source falls
                # off at 12 dB an octave and the lips give 6 back.
                gain = np.prod([_resonance(freq, centre, width) for centre, width in formants], axis=0) / harmonic
                if sound == "m":
                    gain = gain * (freq < 500)
                segment += gain * np.sin(harmonic * phase[a:b])
            out[a:b] += level * segment * ramp
        elif sound == "s":
            hiss = rng.normal(0, 1, n)
            hiss = np.fft.irfft(np.fft.rfft(hiss) * (np.fft.rfftfreq(n, 1 / rate) > 3500), n)
            out[a:b] += 0.8 * hiss * ramp
        elif sound in "pt":
            burst = int(0.02 * rate)
            out[b - burst : b] += rng.normal(0, 0.3, burst)
    out *= 0.5 / max(1e-9, np.percentile(np.abs(out), 99.5))
    data = np.clip(out, -1, 1)
    with av.open(str(path), mode="w", format="wav") as container:
        stream = container.add_stream("pcm_s16le", rate=rate)
        stream.layout = "mono"
        for start in range(0, samples, 4096):
            part = (data[start : start + 4096] * 32767).astype(np.int16).reshape(1, -1)
            frame = av.AudioFrame.from_ndarray(part, format="s16", layout="mono")
            frame.sample_rate = rate
            frame.pts = start
            frame.time_base = Fraction(1, rate)
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path


def make_presenter_clip(
    path: Path,
    *,
    width: int = 1280,
    height: int = 720,
    seconds: float = 4.0,
    fps: int = 25,
    face_height: float = 0.3,
    faces: int = 1,
) -> Path:
    """A presenter-style clip: the astronaut (or ``faces`` of her side by side, every second
    one mirrored) over a grainy backdrop, drifting a little as a handheld camera does, so
    the encoder and the face tracker work as they do on real footage. ``face_height`` is
    the face's height as a fraction of the frame's."""
    import cv2

    portrait = astronaut()
    # In the portrait the face (chin to brow) is about a fifth of the height, centred at
    # (0.435, 0.25) of the picture.
    side = max(64, int(height * face_height / 0.2))
    tile = cv2.resize(portrait, (side, side), interpolation=cv2.INTER_AREA)
    tiles = [
        (tile, 0.435) if index % 2 == 0 else (np.ascontiguousarray(tile[:, ::-1]), 0.565) for index in range(faces)
    ]
    rng = np.random.default_rng(3)
    backdrop = np.clip(rng.normal(150, 12, (height, width, 3)), 0, 255).astype(np.uint8)
    grains = [
        cv2.resize(rng.integers(-6, 7, (height // 4, width // 4), dtype=np.int16), (width, height))[..., None]
        for _ in range(6)
    ]
    frames = int(seconds * fps)
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"preset": "veryfast", "crf": "20"}
        for index in range(frames):
            t = index / fps
            canvas = backdrop.copy()
            for number, (picture, face_x) in enumerate(tiles):
                # Each face keeps to its own column of the frame: two crops side by side.
                left, right = width * number // faces, width * (number + 1) // faces
                cx = width * (number + 0.5) / faces + width * 0.01 * np.sin(2 * np.pi * 0.3 * t + number)
                cy = height * 0.4 + height * 0.008 * np.sin(2 * np.pi * 0.23 * t)
                matrix = np.float32([[1, 0, cx - face_x * side - left], [0, 1, cy - 0.25 * side]])
                column = np.ascontiguousarray(canvas[:, left:right])
                cv2.warpAffine(picture, matrix, (right - left, height), dst=column, borderMode=cv2.BORDER_TRANSPARENT)
                canvas[:, left:right] = column
            canvas = np.clip(canvas + grains[index % len(grains)], 0, 255).astype(np.uint8)
            frame = av.VideoFrame.from_ndarray(canvas, format="rgb24")
            frame.pts = index
            frame.time_base = Fraction(1, fps)
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path


def with_sound_shifted(source: Path, voice: Path, path: Path, *, milliseconds: int) -> Path:
    """``source``'s picture with ``voice`` as its sound, moved by ``milliseconds``: positive
    plays the sound that much earlier than the picture expects (the mouth is late),
    negative later (the mouth is early). Same length as the picture."""
    from lipsync_site.media.render import OUTPUT_AUDIO_RATE, Mp4Writer, iter_audio_frames

    sound = np.concatenate([frame.to_ndarray() for frame in iter_audio_frames(voice)], axis=1)
    cut = round(abs(milliseconds) / 1000 * OUTPUT_AUDIO_RATE)
    sound = sound[:, cut:] if milliseconds > 0 else np.pad(sound, ((0, 0), (cut, 0)))
    with av.open(str(source)) as container:
        stream = container.streams.video[0]
        fps = Fraction(stream.average_rate)
        with Mp4Writer(path, width=stream.width, height=stream.height, fps=fps) as writer:
            for frame in container.decode(stream):
                writer.write_frame(frame)
            total = round(writer.frames_written / fps * OUTPUT_AUDIO_RATE)
            sound = np.pad(sound, ((0, 0), (0, max(0, total - sound.shape[1]))))[:, :total]
            for start in range(0, total, 1024):
                part = np.ascontiguousarray(sound[:, start : start + 1024], dtype=np.float32)
                frame = av.AudioFrame.from_ndarray(part, format="fltp", layout="stereo")
                frame.sample_rate = OUTPUT_AUDIO_RATE
                writer.write_audio(frame)
    return path
