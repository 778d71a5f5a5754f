"""Preparing inputs ourselves when a route cannot fit voice and video lengths itself.

Only the voice is changed (trimmed to the video for ``cut_off``, padded with silence for
``silence``); the work runs in a time-limited subprocess like probing.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from django.conf import settings
from django.utils.translation import gettext

from lipsync_site.media.models import Asset
from lipsync_site.media.probe import MediaRejected
from lipsync_site.media.scratch import local_copy, scratch_dir


def prepare_voice(*, voice: Asset, target_seconds: float) -> Asset:
    """A derived WAV of ``voice`` lasting exactly ``target_seconds``. Raises MediaRejected."""
    from lipsync_site.media.services import store_file

    with scratch_dir() as workdir, local_copy(voice) as source:
        target = workdir / "voice.wav"
        try:
            completed = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "lipsync_site.media.prepare_worker",
                    str(source),
                    str(target),
                    f"{target_seconds:.3f}",
                ],
                capture_output=True,
                timeout=getattr(settings, "MEDIA_ANALYSIS_TIMEOUT_SECONDS", 30.0) * 2,
                check=False,
                env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
            )
        except subprocess.TimeoutExpired:
            raise MediaRejected(gettext("Preparing the voice took too long.")) from None
        if completed.returncode != 0 or not target.exists():
            raise MediaRejected(gettext("The voice could not be prepared to the video's length."))
        return store_file(
            owner=voice.owner,
            workspace=voice.workspace,
            path=target,
            kind=Asset.Kind.AUDIO,
            origin=Asset.Origin.DERIVED,
            original_name=voice.original_name,
            derived_from=voice,
        )
