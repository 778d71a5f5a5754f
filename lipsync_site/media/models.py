"""Uploaded and produced media files.

Files are stored under generated names; the name the user's browser sent is kept as text
only (shortened, never used as a path). Each asset carries what probing found, and a
revocation counter that every signed link embeds: bumping it kills outstanding links.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


def asset_path(instance: Asset, filename: str) -> str:
    # ``filename`` is ours (see services.store_asset), never the user's.
    return f"assets/{instance.owner_id}/{instance.id.hex[:2]}/{instance.id.hex}{instance.extension}"


class Asset(models.Model):
    class Kind(models.TextChoices):
        VIDEO = "video", _("Video")
        AUDIO = "audio", _("Audio")
        IMAGE = "image", _("Image")
        DOCUMENT = "document", _("Document")

    class Origin(models.TextChoices):
        UPLOAD = "upload", _("Uploaded")
        OUTPUT = "output", _("Produced")
        DERIVED = "derived", _("Derived (poster, prepared input)")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # Who uploaded or produced it; the workspace it belongs to decides who may see it.
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="assets")
    workspace = models.ForeignKey("workspaces.Workspace", on_delete=models.PROTECT, related_name="assets")
    kind = models.CharField(max_length=16, choices=Kind)
    origin = models.CharField(max_length=16, choices=Origin, default=Origin.UPLOAD)
    file = models.FileField(upload_to=asset_path, max_length=300)
    extension = models.CharField(max_length=8)
    content_type = models.CharField(max_length=64)
    original_name = models.CharField(max_length=255, blank=True)
    sha256 = models.CharField(max_length=64)
    size_bytes = models.BigIntegerField()
    container = models.CharField(max_length=64, blank=True)
    video_codec = models.CharField(max_length=32, blank=True)
    audio_codec = models.CharField(max_length=32, blank=True)
    duration_seconds = models.FloatField(null=True, blank=True)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    frame_rate = models.FloatField(null=True, blank=True)
    sample_rate = models.PositiveIntegerField(null=True, blank=True)
    channels = models.PositiveSmallIntegerField(null=True, blank=True)
    # What preflight found inside the file (faces, audio levels): see media.analysis.
    analysis = models.JSONField(default=dict, blank=True)
    # A poster frame or a prepared input points at the upload it was made from.
    derived_from = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="derivatives"
    )
    link_generation = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "sha256", "kind"],
                condition=models.Q(origin="upload"),
                name="one_upload_per_content_in_workspace",
            )
        ]

    def __str__(self):
        return f"{self.kind} {self.display_name}"

    @property
    def poster(self) -> Asset | None:
        """The JPEG poster frame made from a video at intake, if any."""
        if self.kind != self.Kind.VIDEO:
            return None
        return self.derivatives.filter(kind=self.Kind.IMAGE, origin=self.Origin.DERIVED).first()

    @property
    def display_name(self) -> str:
        from lipsync_site.media.names import shorten

        return shorten(self.original_name) or f"{self.kind}{self.extension}"
