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
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path

from django.conf import settings
from django.utils.translation import gettext, gettext_lazy


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
    analysis: dict | None = None  # filled when probed with analyse=True

    def as_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> MediaFacts:
        names = {field.name for field in fields(cls)}
        return cls(**{key: value for key, value in data.items() if key in names})


KIND_NAMES = {
    "video": gettext_lazy("a video"),
    "audio": gettext_lazy("an audio file"),
    "image": gettext_lazy("an image"),
}


def probe(
    path: Path, *, timeout: float | None = None, analyse: bool = False, poster_path: Path | None = None
) -> MediaFacts:
    """Identify ``path`` by content. Raises MediaRejected with a message naming what was found.

    With ``analyse``, the same subprocess also looks inside the file for preflight
    (faces, audio levels, a poster frame for videos at ``poster_path``): the result is
    ``facts.analysis``, ``{"error": ...}`` when that part could not finish.
    """
    timeout = timeout or settings.MEDIA_PROBE_TIMEOUT_SECONDS
    command = [sys.executable, "-m", "lipsync_site.media.probe_worker", str(path)]
    if analyse:
        command.append("--analyse")
        if poster_path is not None:
            command += ["--poster", str(poster_path)]
    timed_out = False
    try:
        completed = subprocess.run(
            command,
            capture_output=True,
            timeout=timeout,
            check=False,
            env={
                "PATH": "/usr/bin:/bin",
                "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
                # One thread for numpy's BLAS: the check does no linear algebra, and
                # starting a thread pool per core is a good part of importing numpy.
                "OPENBLAS_NUM_THREADS": "1",
            },
        )
        output, returncode = completed.stdout, completed.returncode
    except subprocess.TimeoutExpired as exc:
        output, returncode, timed_out = exc.stdout or b"", -1, True
    lines = output.splitlines()
    try:
        answer = json.loads(lines[0]) if lines else None
    except json.JSONDecodeError:
        answer = None
    if answer is None:
        if timed_out:
            raise MediaRejected(gettext("The file took too long to read; it may be damaged."))
        if returncode != 0:
            raise MediaRejected(gettext("The file could not be read as media; it may be damaged or truncated."))
        raise MediaRejected(gettext("The file could not be read as media."))
    if "error" in answer:
        raise MediaRejected(answer["error"])
    facts = MediaFacts.from_dict(answer)
    if analyse:
        try:
            found = json.loads(lines[1]) if len(lines) > 1 else None
        except json.JSONDecodeError:
            found = None
        if found is None:
            found = {"error": "The analysis took too long." if timed_out else "The analysis could not read the file."}
        facts = replace(facts, analysis=found)
    return facts


def probe_expecting(path: Path, kind: str, **options) -> MediaFacts:
    """Probe and insist on one kind of media (a video slot needs a picture stream, ...)."""
    facts = probe(path, **options)
    if facts.kind == kind:
        return facts
    if kind == "video" and facts.kind == "audio":
        raise MediaRejected(gettext("This file has sound but no video stream; the source video needs a picture."))
    raise MediaRejected(
        gettext("This is %(found)s, but %(needed)s is needed here.")
        % {"found": KIND_NAMES[facts.kind], "needed": KIND_NAMES[kind]}
    )
