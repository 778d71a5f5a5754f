"""Encoding helpers: H.264 + AAC MP4 output with PyAV, streamed frame by frame.

These are the plain mux paths (new audio under the source picture). The local draft
engine builds its mouth animation on top of the same writer.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from django.utils.translation import gettext

MAX_SHORT_SIDE = 1080  # outputs are at most 1080p, in either orientation
MAX_LONG_SIDE = 1920
OUTPUT_AUDIO_RATE = 48_000


class RenderError(Exception):
    """The inputs could not be rendered; the message is safe to show the user."""


def even(value: int) -> int:
    return max(2, value - value % 2)


def output_size(width: int, height: int) -> tuple[int, int]:
    """The output's frame size: the source's, scaled down (never up) so the short side is
    at most 1080 and the long side at most 1920, aspect kept, even for 4:2:0."""
    scale = min(1.0, MAX_SHORT_SIDE / max(1, min(width, height)), MAX_LONG_SIDE / max(1, max(width, height)))
    return even(round(width * scale)), even(round(height * scale))


def audio_duration(path: Path) -> float:
    with av.open(str(path), options={"protocol_whitelist": "file"}) as container:
        if not container.streams.audio:
            raise RenderError("The voice file has no audio stream.")
        stream = container.streams.audio[0]
        if stream.duration is not None and stream.time_base is not None:
            return float(stream.duration * stream.time_base)
        if container.duration is not None:
            return container.duration / av.time_base
        # Formats without a duration header: count the decoded samples.
        samples = sum(frame.samples for frame in container.decode(stream))
        return samples / (stream.rate or 1)


def iter_audio_frames(path: Path) -> Iterator[av.AudioFrame]:
    """Decoded audio as stereo float planar at the output rate."""
    resampler = av.AudioResampler(format="fltp", layout="stereo", rate=OUTPUT_AUDIO_RATE)
    with av.open(str(path), options={"protocol_whitelist": "file"}) as container:
        stream = container.streams.audio[0]
        for frame in container.decode(stream):
            frame.pts = None
            yield from resampler.resample(frame)
    yield from resampler.resample(None)


class Mp4Writer:
    """An H.264/AAC MP4 with faststart, fed frame by frame."""

    def __init__(self, path: Path, *, width: int, height: int, fps: Fraction):
        self.container = av.open(str(path), mode="w", format="mp4", options={"movflags": "+faststart"})
        self.video = self.container.add_stream("libx264", rate=fps)
        self.video.width = width
        self.video.height = height
        self.video.pix_fmt = "yuv420p"
        self.video.options = {"preset": "veryfast", "crf": "20"}
        self.audio = self.container.add_stream("aac", rate=OUTPUT_AUDIO_RATE)
        self.audio.layout = "stereo"
        self.fps = fps
        self.frames_written = 0
        self.samples_written = 0

    def write_image(self, rgb: np.ndarray) -> None:
        frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
        self.write_frame(frame)

    def write_planar(self, yuv: np.ndarray) -> None:
        """A 4:2:0 planar array at the output size, as PyAV decodes it: no conversion."""
        self.write_frame(av.VideoFrame.from_ndarray(yuv, format="yuv420p"))

    def write_frame(self, frame: av.VideoFrame) -> None:
        if frame.width != self.video.width or frame.height != self.video.height or frame.format.name != "yuv420p":
            frame = frame.reformat(width=self.video.width, height=self.video.height, format="yuv420p")
        frame.pts = self.frames_written
        frame.time_base = 1 / self.fps
        self.container.mux(self.video.encode(frame))
        self.frames_written += 1

    def write_audio(self, frame: av.AudioFrame) -> None:
        frame.pts = self.samples_written
        frame.time_base = Fraction(1, OUTPUT_AUDIO_RATE)
        self.samples_written += frame.samples
        self.container.mux(self.audio.encode(frame))

    def write_audio_track(self, audio_path: Path, seconds: float) -> None:
        """Write ``seconds`` of the audio file, cut or padded with silence to fit exactly."""
        target = round(seconds * OUTPUT_AUDIO_RATE)
        for frame in iter_audio_frames(audio_path):
            remaining = target - self.samples_written
            if remaining <= 0:
                break
            if frame.samples > remaining:
                data = frame.to_ndarray()[:, :remaining]
                frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(data), format="fltp", layout="stereo")
                frame.sample_rate = OUTPUT_AUDIO_RATE
            self.write_audio(frame)
        while self.samples_written < target:
            count = min(1024, target - self.samples_written)
            silence = av.AudioFrame.from_ndarray(np.zeros((2, count), dtype=np.float32), format="fltp", layout="stereo")
            silence.sample_rate = OUTPUT_AUDIO_RATE
            self.write_audio(silence)

    def close(self) -> None:
        self.container.mux(self.video.encode(None))
        self.container.mux(self.audio.encode(None))
        self.container.close()

    def __enter__(self) -> Mp4Writer:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.container.close()


@dataclass(frozen=True)
class VideoGeometry:
    width: int
    height: int
    fps: Fraction
    seconds: float
    frames: int


def video_geometry(path: Path) -> VideoGeometry:
    """Size, rate, length and frame count of a video's first picture stream."""
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
        return VideoGeometry(stream.codec_context.width, stream.codec_context.height, fps, seconds, int(frames))


def _video_geometry(path: Path) -> tuple[int, int, Fraction, float]:
    geometry = video_geometry(path)
    return geometry.width, geometry.height, geometry.fps, geometry.seconds


def output_seconds(video_seconds: float, audio_seconds: float, mode: str) -> float:
    """Length of the result for a duration-mismatch mode (see PROVIDERS.md)."""
    if mode == "cut_off":
        return min(video_seconds, audio_seconds)
    if mode == "silence":
        return max(video_seconds, audio_seconds)
    return audio_seconds  # loop, bounce, remap follow the voice


# Remap plays the picture faster or slower to fit the voice: past these speeds a face
# looks frozen or frantic, so loop or bounce (or a trimmed voice) is the better fit.
REMAP_SLOWEST = 0.5
REMAP_FASTEST = 2.0


def remap_problem(video_seconds: float, audio_seconds: float) -> str:
    """Why remap cannot fit these lengths ("" when it can), in words for the user."""
    if not video_seconds or not audio_seconds:
        return ""
    speed = video_seconds / audio_seconds
    if REMAP_SLOWEST <= speed <= REMAP_FASTEST:
        return ""
    numbers = {
        "speed": f"{speed:.1f}" if round(speed, 1) > 0 else f"{speed:.2f}",
        "video": f"{video_seconds:.1f}",
        "voice": f"{audio_seconds:.1f}",
    }
    if speed < 1:
        message = gettext(
            "Remap would play the video at %(speed)sx its speed (stretch %(video)s s of video over %(voice)s s of "
            "voice); it works between half and double speed. Choose loop or bounce, or trim the voice."
        )
    else:
        message = gettext(
            "Remap would play the video at %(speed)sx its speed (squeeze %(video)s s of video into %(voice)s s of "
            "voice); it works between half and double speed. Choose loop or bounce, or trim the voice."
        )
    return message % numbers


def fitted_seconds(geometry: VideoGeometry, audio_seconds: float, mode: str) -> float:
    """The output's length for ``mode``; refuses a remap past a sane speed."""
    if mode == "remap" and (problem := remap_problem(geometry.seconds, audio_seconds)):
        raise RenderError(problem)
    return output_seconds(geometry.seconds, audio_seconds, mode)


def mux_video_with_audio(
    video_path: Path,
    audio_path: Path,
    output_path: Path,
    *,
    mode: str = "loop",
    on_progress: Callable[[float], None] | None = None,
) -> float:
    """Put the voice under the source picture, fitting lengths by ``mode``. Returns seconds."""
    from lipsync_site.media.frames import laid_out

    try:
        geometry = video_geometry(video_path)
        seconds = fitted_seconds(geometry, audio_duration(audio_path), mode)
        total = max(1, math.ceil(seconds * geometry.fps))
        out_w, out_h = output_size(geometry.width, geometry.height)
        with Mp4Writer(output_path, width=out_w, height=out_h, fps=geometry.fps) as writer:
            frames = laid_out(video_path, mode=mode, total=total, fps=geometry.fps, source_frames=geometry.frames)
            for frame in frames:
                writer.write_frame(frame)
                if on_progress and writer.frames_written % 10 == 0:
                    on_progress(writer.frames_written / total)
            if writer.frames_written == 0:
                raise RenderError("The source video has no decodable frames.")
            writer.write_audio_track(audio_path, writer.frames_written / float(geometry.fps))
    except av.FFmpegError as exc:
        raise RenderError(f"The media could not be decoded: {exc.strerror or exc}") from exc
    if on_progress:
        on_progress(1.0)
    return seconds


def still_with_audio(
    image_path: Path,
    audio_path: Path,
    output_path: Path,
    *,
    fps: int = 25,
    on_progress: Callable[[float], None] | None = None,
) -> float:
    """A clip of the still for the length of the voice. Returns seconds."""
    from PIL import Image

    try:
        with Image.open(image_path) as image:
            rgb = np.asarray(image.convert("RGB"))
        height, width = rgb.shape[:2]
        out_w, out_h = output_size(width, height)
        seconds = audio_duration(audio_path)
        total = max(1, math.ceil(seconds * fps))
        frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
        with Mp4Writer(output_path, width=out_w, height=out_h, fps=Fraction(fps)) as writer:
            for index in range(total):
                writer.write_frame(frame)
                if on_progress and index % 10 == 0:
                    on_progress(index / total)
            writer.write_audio_track(audio_path, seconds)
    except (av.FFmpegError, OSError) as exc:
        raise RenderError(f"The media could not be decoded: {exc}") from exc
    if on_progress:
        on_progress(1.0)
    return seconds
