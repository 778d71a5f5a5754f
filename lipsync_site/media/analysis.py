"""What preflight needs to know about a file's content: faces, audio levels, a poster.

The work runs in a separate, time-limited process (``analysis_worker``), like probing: a
hostile file must not hang or crash the web process. A failed analysis never refuses a
file that probing accepted; preflight reports the check as not done instead.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from django.conf import settings


def analyse(path: Path, kind: str, *, poster_path: Path | None = None, timeout: float | None = None) -> dict:
    """Faces (images, videos), levels (audio) and, for videos, a JPEG poster at ``poster_path``.

    Returns ``{"error": ...}`` when the analysis could not finish.
    """
    timeout = timeout or getattr(settings, "MEDIA_ANALYSIS_TIMEOUT_SECONDS", 30.0)
    command = [sys.executable, "-m", "lipsync_site.media.analysis_worker", str(path), kind]
    if poster_path is not None:
        command += ["--poster", str(poster_path)]
    try:
        completed = subprocess.run(
            command,
            capture_output=True,
            timeout=timeout,
            check=False,
            env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
        )
    except subprocess.TimeoutExpired:
        return {"error": "The analysis took too long."}
    if completed.returncode != 0:
        return {"error": "The analysis could not read the file."}
    try:
        return json.loads(completed.stdout)
    except json.JSONDecodeError:
        return {"error": "The analysis could not read the file."}
