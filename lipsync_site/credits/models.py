"""The credit ledger: append-only entries, a cached balance, and holds.

The account belongs to a workspace (one balance per team); each hold names the member who
placed it and each entry the member it is charged to, so the team sees who spent what.
1 credit = $0.01. ``CreditAccount.balance`` is the *available* balance: it always equals
the sum of the account's entries, and it changes only in the transaction that writes the
entry. A hold moves credits out of the available balance; a capture returns whatever
part of the hold was not charged; a release returns all of it; a refund gives back what a
capture charged.
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _


class CreditAccount(models.Model):
    workspace = models.OneToOneField("workspaces.Workspace", on_delete=models.PROTECT, related_name="credit_account")
    balance = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(balance__gte=0), name="credit_balance_not_negative")]

    def __str__(self):
        return f"{self.workspace} ({self.balance} credits)"


class Hold(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        CAPTURED = "captured", _("Captured")
        RELEASED = "released", _("Released")
        # Captured, then the charge was given back (a moderator refunded a revoked delivery).
        REFUNDED = "refunded", _("Refunded")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    account = models.ForeignKey(CreditAccount, on_delete=models.PROTECT, related_name="holds")
    amount = models.PositiveBigIntegerField()
    # What the hold pays for (a job's id). The ledger knows no job row, only this reference.
    reference = models.CharField(max_length=64, unique=True)
    # The member whose spending this is (counts against their monthly cap).
    placed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=16, choices=Status, default=Status.OPEN)
    captured_amount = models.PositiveBigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    settled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["account", "status"]),
            models.Index(fields=["account", "placed_by", "created_at"], name="credits_hol_account_placed_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(captured_amount__isnull=True) | Q(captured_amount__lte=models.F("amount")),
                name="capture_within_hold",
            )
        ]

    def __str__(self):
        return f"hold {self.amount} for {self.reference} ({self.status})"


class LedgerEntry(models.Model):
    class Kind(models.TextChoices):
        GRANT = "grant", _("Grant")
        HOLD = "hold", _("Hold")
        CAPTURE = "capture", _("Capture")
        RELEASE = "release", _("Release")
        ADJUSTMENT = "adjustment", _("Adjustment")
        REFUND = "refund", _("Refund")

    account = models.ForeignKey(CreditAccount, on_delete=models.PROTECT, related_name="entries")
    kind = models.CharField(max_length=16, choices=Kind)
    # Signed change to the available balance.
    amount = models.BigIntegerField()
    hold = models.ForeignKey(Hold, null=True, blank=True, on_delete=models.PROTECT, related_name="entries")
    reference = models.CharField(max_length=64, blank=True)
    # The member the entry is charged to (a hold and its settlement: who placed it); empty
    # for grants and adjustments, which no member caused.
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # Who made the change happen: an admin's grant, a member cancelling a job; empty for the system.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.CharField(max_length=300)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        verbose_name_plural = "ledger entries"
        ordering = ["-created_at", "-id"]
        constraints = [
            # A retried step can never settle a hold twice, nor place it twice.
            models.UniqueConstraint(fields=["hold"], condition=Q(kind="hold"), name="one_hold_entry_per_hold"),
            models.UniqueConstraint(
                fields=["hold"], condition=Q(kind__in=["capture", "release"]), name="one_settlement_per_hold"
            ),
            models.UniqueConstraint(fields=["hold"], condition=Q(kind="refund"), name="one_refund_per_hold"),
        ]

    def __str__(self):
        return f"{self.kind} {self.amount:+d}: {self.reason}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("ledger entries are append-only")
        super().save(*args, **kwargs)

    @property
    def label(self) -> str:
        """What happened, in the ledger's words: a capture that returns part of its hold is
        a charge and a release, not a "+144 capture"."""
        if self.kind == self.Kind.CAPTURE and self.hold is not None:
            charged = self.hold.captured_amount or 0
            if self.amount:
                return gettext("Charged %(charged)d, %(released)d of the hold released") % {
                    "charged": charged,
                    "released": self.amount,
                }
            return gettext("Charged %(charged)d") % {"charged": charged}
        return {
            self.Kind.GRANT: gettext("Granted"),
            self.Kind.HOLD: gettext("Held"),
            self.Kind.RELEASE: gettext("Released"),
            self.Kind.REFUND: gettext("Refunded"),
            self.Kind.ADJUSTMENT: gettext("Adjustment"),
        }.get(self.kind, self.get_kind_display())
