"""Storing media: uploads from the form and files produced by providers."""

from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path

from django.core.files import File
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils.translation import gettext

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


def store_upload(*, owner, workspace, upload: UploadedFile, kind: str) -> Asset:
    """Probe an uploaded file by content and store it under a generated name.

    Raises MediaRejected (with a message naming what was found) and stores nothing when
    the file is not ``kind`` media. The same content uploaded twice in one workspace is
    stored once: the existing asset is returned. What preflight needs (faces, audio
    levels) is analysed once here and kept on the asset; a video also gets a JPEG poster
    frame, stored as a derived asset (moderators see it in their queue).
    """
    path, spool = _local_copy(upload)
    try:
        if path.stat().st_size == 0:
            raise MediaRejected(gettext("The file is empty."))
        digest = sha256_of(path)
        existing = Asset.objects.filter(
            workspace=workspace, sha256=digest, kind=kind, origin=Asset.Origin.UPLOAD
        ).first()
        if existing is not None:
            return existing
        with tempfile.TemporaryDirectory() as workdir:
            poster_path = Path(workdir) / "poster.jpg"
            facts = probe_expecting(path, kind, analyse=True, poster_path=poster_path)
            asset = _save_asset(
                owner=owner,
                workspace=workspace,
                source=path,
                facts=facts,
                sha256=digest,
                origin=Asset.Origin.UPLOAD,
                original_name=clean_original_name(upload.name or ""),
                analysis=facts.analysis,
            )
            if poster_path.exists() and getattr(asset, "newly_stored", False):
                _store_poster(asset, poster_path)
        return asset
    finally:
        if spool is not None:
            spool.close()


def _store_poster(video: Asset, poster_path: Path) -> Asset | None:
    from PIL import Image

    # Our own JPEG, written by the probe subprocess: read in-process, no second probe.
    try:
        with Image.open(poster_path) as image:
            width, height = image.size
    except OSError:
        return None  # a missing poster is cosmetic; the upload itself is fine
    facts = MediaFacts(
        kind=Asset.Kind.IMAGE, extension=".jpg", content_type="image/jpeg", container="jpeg", width=width, height=height
    )
    return _save_asset(
        owner=video.owner,
        workspace=video.workspace,
        source=poster_path,
        facts=facts,
        sha256=sha256_of(poster_path),
        origin=Asset.Origin.DERIVED,
        original_name="",
        derived_from=video,
    )


EVIDENCE_IMAGE_TYPES = {".jpg", ".png"}


def store_evidence(*, owner, workspace, upload: UploadedFile) -> Asset:
    """Store a signed release (PDF, JPG or PNG) kept with an attestation.

    PDFs are checked by their structure markers only (header and end-of-file marker) and
    are only ever served as attachments; images go through the media probe.
    """
    path, spool = _local_copy(upload)
    try:
        size = path.stat().st_size
        if size == 0:
            raise MediaRejected(gettext("The evidence file is empty."))
        with open(path, "rb") as fh:
            head = fh.read(8)
            fh.seek(max(0, size - 2048))
            tail = fh.read()
        if head.startswith(b"%PDF-"):
            if b"%%EOF" not in tail:
                raise MediaRejected(gettext("This PDF is truncated (it has no end-of-file marker)."))
            facts = MediaFacts(
                kind=Asset.Kind.DOCUMENT, extension=".pdf", content_type="application/pdf", container="pdf"
            )
        else:
            try:
                facts = probe_expecting(path, Asset.Kind.IMAGE)
            except MediaRejected as exc:
                raise MediaRejected(gettext("The evidence must be a PDF, JPG or PNG.") + " " + exc.message) from None
            if facts.extension not in EVIDENCE_IMAGE_TYPES:
                raise MediaRejected(gettext("The evidence must be a PDF, JPG or PNG."))
        digest = sha256_of(path)
        existing = Asset.objects.filter(
            workspace=workspace, sha256=digest, kind=facts.kind, origin=Asset.Origin.UPLOAD
        ).first()
        if existing is not None:
            return existing
        return _save_asset(
            owner=owner,
            workspace=workspace,
            source=path,
            facts=facts,
            sha256=digest,
            origin=Asset.Origin.UPLOAD,
            original_name=clean_original_name(upload.name or ""),
        )
    finally:
        if spool is not None:
            spool.close()


def store_file(
    *,
    owner,
    workspace,
    path: Path,
    kind: str,
    origin: str,
    original_name: str = "",
    derived_from: Asset | None = None,
) -> Asset:
    """Probe and store a file we produced or downloaded (provider outputs, posters,
    prepared inputs)."""
    facts = probe_expecting(path, kind)
    return _save_asset(
        owner=owner,
        workspace=workspace,
        source=path,
        facts=facts,
        sha256=sha256_of(path),
        origin=origin,
        original_name=original_name,
        derived_from=derived_from,
    )


def _save_asset(
    *,
    owner,
    workspace,
    source: Path,
    facts: MediaFacts,
    sha256: str,
    origin: str,
    original_name: str,
    analysis: dict | None = None,
    derived_from: Asset | None = None,
) -> Asset:
    asset = Asset(
        owner=owner,
        workspace=workspace,
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
        analysis=analysis or {},
        derived_from=derived_from,
    )
    with open(source, "rb") as fh:
        asset.file.save(f"{asset.id.hex}{facts.extension}", File(fh), save=False)
    try:
        with transaction.atomic():
            asset.save()
    except IntegrityError:
        # A concurrent upload of the same content won the race: keep theirs, drop ours.
        asset.file.delete(save=False)
        return Asset.objects.get(workspace=workspace, sha256=sha256, kind=facts.kind, origin=origin)
    asset.newly_stored = True
    return asset


def discard_new_files(assets) -> None:
    """Delete the files of assets stored by a transaction that then rolled back.

    The rows went with the rollback; the files on storage did not. Assets that already
    existed (a repeated upload) are left alone.
    """
    for asset in assets:
        if getattr(asset, "newly_stored", False):
            for derived in Asset.objects.filter(derived_from=asset):
                derived.file.storage.delete(derived.file.name)
            asset.file.storage.delete(asset.file.name)


def revoke_links(*, asset_ids) -> int:
    """Make every outstanding signed link to these assets stop working."""
    return Asset.objects.filter(pk__in=list(asset_ids)).update(link_generation=F("link_generation") + 1)
