"""Storing media: uploads from the form and files produced by providers."""

from __future__ import annotations

import hashlib
import shutil
import tempfile
from pathlib import Path

from django.core.files import File
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import F

from lipsync_site.media.models import Asset
from lipsync_site.media.names import clean_original_name
from lipsync_site.media.probe import MediaFacts, MediaRejected, probe_expecting

CHUNK = 1024 * 1024


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _local_copy(upload: UploadedFile):
    """A path to the upload's bytes on disk. Large uploads already are temporary files."""
    if hasattr(upload, "temporary_file_path"):
        return Path(upload.temporary_file_path()), None
    spool = tempfile.NamedTemporaryFile(suffix=".upload")  # noqa: SIM115 (closed by the caller)
    for chunk in upload.chunks():
        spool.write(chunk)
    spool.flush()
    return Path(spool.name), spool


def store_upload(*, owner, upload: UploadedFile, kind: str) -> Asset:
    """Probe an uploaded file by content and store it under a generated name.

    Raises MediaRejected (with a message naming what was found) and stores nothing when
    the file is not ``kind`` media. The same content uploaded twice by one user is
    stored once: the existing asset is returned.
    """
    path, spool = _local_copy(upload)
    try:
        if path.stat().st_size == 0:
            raise MediaRejected("The file is empty.")
        facts = probe_expecting(path, kind)
        digest = sha256_of(path)
        existing = Asset.objects.filter(owner=owner, sha256=digest, kind=kind, origin=Asset.Origin.UPLOAD).first()
        if existing is not None:
            return existing
        return _save_asset(
            owner=owner,
            source=path,
            facts=facts,
            sha256=digest,
            origin=Asset.Origin.UPLOAD,
            original_name=clean_original_name(upload.name or ""),
        )
    finally:
        if spool is not None:
            spool.close()


def store_file(*, owner, path: Path, kind: str, origin: str, original_name: str = "") -> Asset:
    """Probe and store a file we produced or downloaded (provider outputs, posters)."""
    facts = probe_expecting(path, kind)
    return _save_asset(
        owner=owner, source=path, facts=facts, sha256=sha256_of(path), origin=origin, original_name=original_name
    )


def _save_asset(*, owner, source: Path, facts: MediaFacts, sha256: str, origin: str, original_name: str) -> Asset:
    asset = Asset(
        owner=owner,
        kind=facts.kind,
        origin=origin,
        extension=facts.extension,
        content_type=facts.content_type,
        original_name=original_name,
        sha256=sha256,
        size_bytes=source.stat().st_size,
        container=facts.container,
        video_codec=facts.video_codec,
        audio_codec=facts.audio_codec,
        duration_seconds=facts.duration_seconds,
        width=facts.width,
        height=facts.height,
        frame_rate=facts.frame_rate,
        sample_rate=facts.sample_rate,
        channels=facts.channels,
    )
    with open(source, "rb") as fh:
        asset.file.save(f"{asset.id.hex}{facts.extension}", File(fh), save=False)
    try:
        with transaction.atomic():
            asset.save()
    except IntegrityError:
        # A concurrent upload of the same content won the race: keep theirs, drop ours.
        asset.file.delete(save=False)
        return Asset.objects.get(owner=owner, sha256=sha256, kind=facts.kind, origin=origin)
    asset.newly_stored = True
    return asset


def discard_new_files(assets) -> None:
    """Delete the files of assets stored by a transaction that then rolled back.

    The rows went with the rollback; the files on storage did not. Assets that already
    existed (a repeated upload) are left alone.
    """
    for asset in assets:
        if getattr(asset, "newly_stored", False):
            asset.file.storage.delete(asset.file.name)


def revoke_links(*, asset_ids) -> int:
    """Make every outstanding signed link to these assets stop working."""
    return Asset.objects.filter(pk__in=list(asset_ids)).update(link_generation=F("link_generation") + 1)


def copy_to_path(asset: Asset, destination: Path) -> None:
    with asset.file.open("rb") as src, open(destination, "wb") as dst:
        shutil.copyfileobj(src, dst, CHUNK)
