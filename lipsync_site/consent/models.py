"""Consent on record: attestations and moderators' decisions, both immutable.

An attestation is what a user declared, with the exact text they were shown; a decision
is a moderator's verdict on it. Changing one's mind means a new decision row, never an
edit.
"""

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _


class ImmutableModel(models.Model):
    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ValueError(f"{type(self).__name__} rows are immutable")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError(f"{type(self).__name__} rows are immutable")


class VoiceProvenance(models.TextChoices):
    OWN = "own", _("It is my own voice")
    CONSENTED = "consented", _("The speaker consented to this use of their voice")
    LICENSED = "licensed", _("The recording is licensed for this use")
    SYNTHETIC = "synthetic", _("A synthetic voice I have the rights to")


class Attestation(ImmutableModel):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="attestations", verbose_name=_("user")
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)
    text_version = models.CharField(_("wording version"), max_length=32)
    text_shown = models.TextField(_("text shown"))
    # The language the wording was shown in, and the same wording in English when that was
    # another language (the moderator reads both).
    text_language = models.CharField(_("language shown"), max_length=16, default="en", choices=settings.LANGUAGES)
    text_shown_english = models.TextField(_("text shown, in English"), blank=True)
    likeness_consent = models.BooleanField(_("likeness consent"))
    voice_provenance = models.CharField(_("voice provenance"), max_length=16, choices=VoiceProvenance)
    person_name = models.CharField(_("person shown"), max_length=200)
    speaker_name = models.CharField(_("speaker"), max_length=200, blank=True)
    public_figure = models.BooleanField(_("public figure"), default=False)
    # Each question's answer as given, keyed by question (see texts.py for the wording).
    answers = models.JSONField(_("answers"), default=dict)
    evidence = models.ForeignKey(
        "media.Asset",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="evidence_for",
        verbose_name=_("evidence"),
    )
    # sha256 of every media file this attestation covers.
    media_sha256 = models.JSONField(_("media checksums"), default=list)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    user_agent = models.CharField(_("browser"), max_length=400, blank=True)

    class Meta:
        ordering = ["created_at"]
        verbose_name = _("attestation")
        verbose_name_plural = _("attestations")
        permissions = [("moderate_attestation", "Can approve or reject consent attestations")]

    def __str__(self):
        return f"{self.person_name} ({self.created_at:%Y-%m-%d %H:%M})"

    @property
    def latest_decision(self):
        return self.decisions.order_by("-created_at", "-id").first()

    @property
    def review_state(self) -> str:
        decision = self.latest_decision
        return decision.outcome if decision else "pending"

    @property
    def review_state_display(self) -> str:
        return review_state_label(self.review_state)


class Decision(ImmutableModel):
    class Outcome(models.TextChoices):
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")

    attestation = models.ForeignKey(Attestation, on_delete=models.PROTECT, related_name="decisions")
    outcome = models.CharField(_("outcome"), max_length=16, choices=Outcome)
    moderator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("moderator")
    )
    reason = models.TextField(_("reason"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["created_at"]
        verbose_name = _("decision")
        verbose_name_plural = _("decisions")

    def __str__(self):
        return f"{self.outcome} by {self.moderator} ({self.created_at:%Y-%m-%d %H:%M})"


def review_state_label(state: str) -> str:
    """A review state (pending, approved, rejected) in the reader's language."""
    if state == "pending":
        return gettext("pending")
    return str(dict(Decision.Outcome.choices).get(state, state)).lower()
