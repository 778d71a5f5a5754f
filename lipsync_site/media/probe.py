"""Identify and measure media by content, never by name or browser MIME type.

Probing runs in a separate, time-limited Python process (``python -m
lipsync_site.media.probe_worker``): a hostile container must not hang or crash the web
process. Files are opened with ``protocol_whitelist=file`` so a playlist cannot make
FFmpeg fetch anything.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from django.conf import settings


class MediaRejected(Exception):
    """The file is not acceptable media; ``message`` says what was found, for the user."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class MediaFacts:
    kind: str  # video, audio, image
    extension: str
    content_type: str
    container: str
    video_codec: str = ""
    audio_codec: str = ""
    duration_seconds: float | None = None
    width: int | None = None
    height: int | None = None
    frame_rate: float | None = None
    sample_rate: int | None = None
    channels: int | None = None

    def as_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> MediaFacts:
        names = {field.name for field in fields(cls)}
        return cls(**{key: value for key, value in data.items() if key in names})


KIND_NAMES = {"video": "a video", "audio": "an audio file", "image": "an image"}


def probe(path: Path, *, timeout: float | None = None) -> MediaFacts:
    """Identify ``path`` by content. Raises MediaRejected with a message naming what was found."""
    timeout = timeout or settings.MEDIA_PROBE_TIMEOUT_SECONDS
    try:
        completed = subprocess.run(
            [sys.executable, "-m", "lipsync_site.media.probe_worker", str(path)],
            capture_output=True,
            timeout=timeout,
            check=False,
            env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
        )
    except subprocess.TimeoutExpired:
        raise MediaRejected("The file took too long to read; it may be damaged.") from None
    if completed.returncode != 0:
        raise MediaRejected("The file could not be read as media; it may be damaged or truncated.")
    try:
        answer = json.loads(completed.stdout)
    except json.JSONDecodeError:
        raise MediaRejected("The file could not be read as media.") from None
    if "error" in answer:
        raise MediaRejected(answer["error"])
    return MediaFacts.from_dict(answer)


def probe_expecting(path: Path, kind: str) -> MediaFacts:
    """Probe and insist on one kind of media (a video slot needs a picture stream, ...)."""
    facts = probe(path)
    if facts.kind == kind:
        return facts
    if kind == "video" and facts.kind == "audio":
        raise MediaRejected("This file has sound but no video stream; the source video needs a picture.")
    raise MediaRejected(f"This is {KIND_NAMES[facts.kind]}, but {KIND_NAMES[kind]} is needed here.")
