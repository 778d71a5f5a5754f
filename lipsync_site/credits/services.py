"""State changes of the ledger. Each function is one transaction.

One account per workspace. The available balance moves only through a guarded ``UPDATE
... WHERE balance >= amount`` in the same transaction as its entry, so concurrent holds
by several members can never overdraw the workspace, on PostgreSQL or on SQLite. A hold
names the member who placed it; their optional monthly cap is checked with their
membership row locked, so two jobs of one member cannot both slip under it.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from lipsync_site.credits.models import CreditAccount, Hold, LedgerEntry
from lipsync_site.credits.selectors import member_spend_since, month_start
from lipsync_site.workspaces.selectors import membership_for_update


class CreditsRefused(Exception):
    """A hold the rules do not allow; the message is for the member."""


class InsufficientCredits(CreditsRefused):
    def __init__(self, *, needed: int, available: int):
        super().__init__(f"needs {needed} credits, {available} available")
        self.needed = needed
        self.available = available


class SpendingCapReached(CreditsRefused):
    def __init__(self, *, cap: int, spent: int, needed: int):
        super().__init__(f"needs {needed} credits, but your monthly cap is {cap} and you have used {spent} this month")
        self.cap = cap
        self.spent = spent
        self.needed = needed


class NotAMember(CreditsRefused):
    def __init__(self):
        super().__init__("only members of the workspace can spend its credits")


class HoldAlreadySettled(Exception):
    pass


def account_for(workspace) -> CreditAccount:
    account, _ = CreditAccount.objects.get_or_create(workspace=workspace)
    return account


def _move(account_id: int, amount: int) -> None:
    """Change the cached balance by ``amount``, refusing to go below zero."""
    rows = CreditAccount.objects.filter(pk=account_id, balance__gte=-amount if amount < 0 else 0).update(
        balance=F("balance") + amount, updated_at=timezone.now()
    )
    if rows != 1:
        available = CreditAccount.objects.filter(pk=account_id).values_list("balance", flat=True).first() or 0
        raise InsufficientCredits(needed=-amount, available=available)


@transaction.atomic
def grant_credits(*, workspace, amount: int, reason: str, actor=None) -> LedgerEntry:
    """Add credits to a workspace (its first allowance, a purchase, a site admin's grant)."""
    if amount <= 0:
        raise ValueError("a grant must be positive")
    account = account_for(workspace)
    _move(account.pk, amount)
    return LedgerEntry.objects.create(
        account=account, kind=LedgerEntry.Kind.GRANT, amount=amount, actor=actor, reason=reason
    )


@transaction.atomic
def adjust_credits(*, workspace, amount: int, reason: str, actor) -> LedgerEntry:
    """A correction by a site admin, positive or negative; never below zero."""
    if amount == 0:
        raise ValueError("an adjustment must change the balance")
    account = account_for(workspace)
    _move(account.pk, amount)
    return LedgerEntry.objects.create(
        account=account, kind=LedgerEntry.Kind.ADJUSTMENT, amount=amount, actor=actor, reason=reason
    )


@transaction.atomic
def place_hold(*, workspace, member, amount: int, reference: str, reason: str) -> Hold:
    """Reserve ``amount`` of the workspace's credits for ``reference``, on ``member``'s account.

    Raises NotAMember, SpendingCapReached (the member's monthly cap) or InsufficientCredits
    (the workspace's balance).
    """
    if amount <= 0:
        raise ValueError("a hold must be positive")
    membership = membership_for_update(workspace_id=workspace.pk, user_id=member.pk)
    if membership is None:
        raise NotAMember()
    account = account_for(workspace)
    if membership.monthly_spend_cap is not None:
        spent = member_spend_since(account=account, user=member, since=month_start())
        if spent + amount > membership.monthly_spend_cap:
            raise SpendingCapReached(cap=membership.monthly_spend_cap, spent=spent, needed=amount)
    _move(account.pk, -amount)
    hold = Hold.objects.create(account=account, amount=amount, reference=reference, placed_by=member)
    LedgerEntry.objects.create(
        account=account,
        kind=LedgerEntry.Kind.HOLD,
        amount=-amount,
        hold=hold,
        reference=reference,
        member=member,
        actor=member,
        reason=reason,
    )
    return hold


def _settle(hold_id, *, status: str, charged: int, kind: str, reason: str, actor) -> Hold:
    claimed = Hold.objects.filter(pk=hold_id, status=Hold.Status.OPEN).update(
        status=status, captured_amount=charged if status == Hold.Status.CAPTURED else None, settled_at=timezone.now()
    )
    hold = Hold.objects.get(pk=hold_id)
    if claimed != 1:
        raise HoldAlreadySettled(f"hold {hold_id} is already {hold.status}")
    returned = hold.amount - charged
    if returned:
        _move(hold.account_id, returned)
    try:
        with transaction.atomic():
            LedgerEntry.objects.create(
                account_id=hold.account_id,
                kind=kind,
                amount=returned,
                hold=hold,
                reference=hold.reference,
                member_id=hold.placed_by_id,
                actor=actor,
                reason=reason,
            )
    except IntegrityError as exc:  # the unique constraint is the last line of defence
        raise HoldAlreadySettled(f"hold {hold_id} already has a settlement entry") from exc
    return hold


@transaction.atomic
def capture_hold(*, hold_id, amount: int, reason: str, actor=None) -> Hold:
    """Charge ``amount`` (at most the hold) and return the rest of the hold to the balance."""
    hold = Hold.objects.get(pk=hold_id)
    if not 0 <= amount <= hold.amount:
        raise ValueError(f"cannot capture {amount} of a {hold.amount} credit hold")
    return _settle(
        hold_id, status=Hold.Status.CAPTURED, charged=amount, kind=LedgerEntry.Kind.CAPTURE, reason=reason, actor=actor
    )


@transaction.atomic
def release_hold(*, hold_id, reason: str, actor=None) -> Hold:
    """Return the whole hold to the balance (failure, cancellation, rejection)."""
    return _settle(
        hold_id, status=Hold.Status.RELEASED, charged=0, kind=LedgerEntry.Kind.RELEASE, reason=reason, actor=actor
    )


@transaction.atomic
def refund_hold(*, hold_id, reason: str, actor=None) -> Hold:
    """Give back what a captured hold charged (a delivery withdrawn and refunded)."""
    claimed = Hold.objects.filter(pk=hold_id, status=Hold.Status.CAPTURED).update(
        status=Hold.Status.REFUNDED, settled_at=timezone.now()
    )
    hold = Hold.objects.get(pk=hold_id)
    if claimed != 1:
        raise HoldAlreadySettled(f"hold {hold_id} is {hold.status}, not captured")
    refunded = hold.captured_amount or 0
    if refunded:
        _move(hold.account_id, refunded)
    try:
        with transaction.atomic():
            LedgerEntry.objects.create(
                account_id=hold.account_id,
                kind=LedgerEntry.Kind.REFUND,
                amount=refunded,
                hold=hold,
                reference=hold.reference,
                member_id=hold.placed_by_id,
                actor=actor,
                reason=reason,
            )
    except IntegrityError as exc:
        raise HoldAlreadySettled(f"hold {hold_id} was already refunded") from exc
    return hold
