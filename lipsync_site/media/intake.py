"""Taking the media of one form submission: this request's uploads are stored (probed,
analysed) and the ones kept from an earlier step are loaded back by id, the owner's only.

A refused file leaves nothing behind: whatever this request stored is removed again, and
the error names the file and says why.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext

from lipsync_site.media.models import Asset
from lipsync_site.media.names import clean_original_name
from lipsync_site.media.probe import MediaRejected
from lipsync_site.media.services import discard_new_files, store_evidence, store_upload

# Slots of a submission and the kind of asset each holds.
SLOT_KINDS = {"video": Asset.Kind.VIDEO, "portrait": Asset.Kind.IMAGE, "voices": Asset.Kind.AUDIO}


@dataclass
class Intake:
    """The media of one submission: stored by this request or an earlier step."""

    video: Asset | None = None
    portrait: Asset | None = None
    voices: list[Asset] = field(default_factory=list)
    evidence: Asset | None = None
    new: list[Asset] = field(default_factory=list)  # stored by this request
    errors: list[tuple[str, str]] = field(default_factory=list)  # (slot, message)

    @property
    def refused(self) -> bool:
        return bool(self.errors)

    def forget_new(self) -> None:
        """A refused or failed request leaves nothing behind: drop what it stored."""
        forget = [asset for asset in self.new if getattr(asset, "newly_stored", False)]
        discard_new_files(forget)
        Asset.objects.filter(pk__in=[asset.pk for asset in forget]).delete()
        gone = {asset.pk for asset in forget}
        self.video = None if self.video and self.video.pk in gone else self.video
        self.portrait = None if self.portrait and self.portrait.pk in gone else self.portrait
        self.evidence = None if self.evidence and self.evidence.pk in gone else self.evidence
        self.voices = [voice for voice in self.voices if voice.pk not in gone]
        self.new = []


def workspace_assets(workspace, ids, kinds, *, limit: int) -> list[Asset]:
    """The workspace's uploads among ``ids``, in the order given (any member's: a colleague
    may re-use them); anything else, another workspace's included, is ignored."""
    valid = []
    for value in list(ids)[:limit]:
        try:
            valid.append(uuid.UUID(str(value)))
        except ValueError:
            continue
    found = {
        asset.pk: asset
        for asset in Asset.objects.filter(workspace=workspace, kind__in=kinds, origin=Asset.Origin.UPLOAD, pk__in=valid)
    }
    return [found[pk] for pk in valid if pk in found]


def take_media(
    *,
    owner,
    workspace,
    kept: dict[str, list[str]],
    uploads: dict[str, list[UploadedFile]],
    max_voices: int,
    store: bool = True,
) -> Intake:
    """Load the kept assets (``kept``: slot -> asset ids) and, with ``store``, store this
    request's ``uploads`` (slot -> files; slots "video", "portrait", "voices", "evidence").
    A new upload in a slot replaces what the slot held."""
    intake = Intake(
        video=next(iter(workspace_assets(workspace, kept.get("video", []), [Asset.Kind.VIDEO], limit=1)), None),
        portrait=next(iter(workspace_assets(workspace, kept.get("portrait", []), [Asset.Kind.IMAGE], limit=1)), None),
        voices=workspace_assets(workspace, kept.get("voices", []), [Asset.Kind.AUDIO], limit=max_voices),
        evidence=next(
            iter(
                workspace_assets(workspace, kept.get("evidence", []), [Asset.Kind.DOCUMENT, Asset.Kind.IMAGE], limit=1)
            ),
            None,
        ),
    )
    if not store:
        return intake

    def keep(slot: str, upload: UploadedFile) -> Asset | None:
        try:
            asset = (
                store_evidence(owner=owner, workspace=workspace, upload=upload)
                if slot == "evidence"
                else store_upload(owner=owner, workspace=workspace, upload=upload, kind=SLOT_KINDS[slot])
            )
        except MediaRejected as exc:
            intake.errors.append((slot, f"{clean_original_name(upload.name or '') or 'This file'}: {exc.message}"))
            return None
        intake.new.append(asset)
        return asset

    for slot in ("video", "portrait", "evidence"):
        if uploads.get(slot):
            setattr(intake, slot, keep(slot, uploads[slot][0]))
    voices = uploads.get("voices") or []
    if len(voices) > max_voices:
        intake.errors.append(
            (
                "voices",
                gettext("Up to %(count)d voices per submission; split the rest into another.") % {"count": max_voices},
            )
        )
    elif voices:
        intake.voices = [voice for voice in (keep("voices", upload) for upload in voices) if voice is not None]
    if intake.refused:
        intake.forget_new()
    return intake
