"""Local scratch copies of stored media, for the steps that need a path on disk.

Probing, preparing, rendering and checking read files with PyAV and OpenCV, which want a
path. Stored media may be on another machine's disk or in an S3 bucket, so a worker never
reads ``FieldFile.path``: it takes a scratch copy here (streamed from the storage API) and
the copy is removed when the block ends. Filesystem storage hands out the stored file
itself, read-only by convention, which saves a copy on a single machine.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from django.conf import settings

from lipsync_site.media.models import Asset

CHUNK = 1024 * 1024


def scratch_root() -> Path:
    root = Path(settings.MEDIA_SCRATCH_DIR) if settings.MEDIA_SCRATCH_DIR else Path(settings.VAR_DIR) / "scratch"
    root.mkdir(parents=True, exist_ok=True)
    return root


@contextlib.contextmanager
def scratch_dir() -> Iterator[Path]:
    """A private directory under this machine's scratch root, removed afterwards."""
    with tempfile.TemporaryDirectory(dir=scratch_root()) as workdir:
        yield Path(workdir)


def _local_path(asset: Asset) -> Path | None:
    try:
        return Path(asset.file.path)
    except NotImplementedError:  # object storage: no local path
        return None


@contextlib.contextmanager
def local_copy(asset: Asset) -> Iterator[Path]:
    """A path to ``asset``'s bytes on this machine for the length of the block.

    From object storage the file is streamed to a scratch file (never whole in memory),
    which is deleted when the block ends, whatever happens inside it.
    """
    path = _local_path(asset)
    if path is not None:
        yield path
        return
    with scratch_dir() as workdir:
        target = workdir / f"{asset.id.hex}{asset.extension}"
        with asset.file.storage.open(asset.file.name, "rb") as source, open(target, "wb") as sink:
            shutil.copyfileobj(source, sink, CHUNK)
        yield target


@contextlib.contextmanager
def local_copies(*assets: Asset | None) -> Iterator[list[Path | None]]:
    """``local_copy`` of several assets at once (None stays None)."""
    with contextlib.ExitStack() as stack:
        yield [stack.enter_context(local_copy(asset)) if asset is not None else None for asset in assets]
