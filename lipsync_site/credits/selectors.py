from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from django.contrib.auth import get_user_model
from django.db.models import Q, Sum
from django.utils import timezone

from lipsync_site.credits.models import CreditAccount, Hold, LedgerEntry
from lipsync_site.workspaces.selectors import members_of, membership


def month_start(now: datetime | None = None) -> datetime:
    """The start of the current calendar month (UTC): spending caps reset then."""
    now = now or timezone.now()
    return now.astimezone(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def balance_summary(workspace) -> dict:
    account = CreditAccount.objects.filter(workspace=workspace).first()
    if account is None:
        return {"available": 0, "held": 0}
    held = Hold.objects.filter(account=account, status=Hold.Status.OPEN).aggregate(total=Sum("amount"))["total"] or 0
    return {"available": account.balance, "held": held}


def spendable(workspace, user) -> dict:
    """What ``user`` may spend now: the workspace's balance, and their monthly cap's rest.
    ``budget`` is the smaller of the two (what the new-job form may offer)."""
    summary = balance_summary(workspace)
    found = membership(workspace_id=workspace.pk, user=user)
    cap = found.monthly_spend_cap if found is not None else None
    cap_left = None
    if cap is not None:
        account = CreditAccount.objects.filter(workspace=workspace).first()
        spent = member_spend_since(account=account, user=user, since=month_start()) if account else 0
        cap_left = max(0, cap - spent)
    budget = summary["available"] if cap_left is None else min(summary["available"], cap_left)
    return {**summary, "cap": cap, "cap_left": cap_left, "budget": budget}


def header_balance(workspace) -> int:
    return CreditAccount.objects.filter(workspace=workspace).values_list("balance", flat=True).first() or 0


def entries_for(workspace):
    return LedgerEntry.objects.filter(account__workspace=workspace).select_related("hold", "member", "actor")


def open_holds_for(workspace):
    return (
        Hold.objects.filter(account__workspace=workspace, status=Hold.Status.OPEN)
        .select_related("placed_by")
        .order_by("-created_at")
    )


# What a hold costs its member: all of it while open, the captured part once captured,
# nothing once released.
_SPENT_OPEN = Sum("amount", filter=Q(status=Hold.Status.OPEN))
_SPENT_CAPTURED = Sum("captured_amount", filter=Q(status=Hold.Status.CAPTURED))


def member_spend_since(*, account, user, since: datetime) -> int:
    totals = Hold.objects.filter(account=account, placed_by=user, created_at__gte=since).aggregate(
        open=_SPENT_OPEN, captured=_SPENT_CAPTURED
    )
    return (totals["open"] or 0) + (totals["captured"] or 0)


@dataclass(frozen=True)
class MemberSpending:
    user: object
    role: str  # "" for someone no longer a member
    monthly_cap: int | None
    held: int
    spent_this_month: int  # captured this month plus what is held
    spent_total: int  # captured, all time

    @property
    def cap_left(self) -> int | None:
        return None if self.monthly_cap is None else max(0, self.monthly_cap - self.spent_this_month)


def spending_by_member(workspace) -> list[MemberSpending]:
    """Who spent what: every current member, and former members who spent anything."""
    account = CreditAccount.objects.filter(workspace=workspace).first()
    rows = {}
    if account is not None:
        since = month_start()
        per_user = (
            Hold.objects.filter(account=account)
            .values("placed_by")
            .annotate(
                held=_SPENT_OPEN,
                month_captured=Sum("captured_amount", filter=Q(status=Hold.Status.CAPTURED, created_at__gte=since)),
                month_held=Sum("amount", filter=Q(status=Hold.Status.OPEN, created_at__gte=since)),
                total=_SPENT_CAPTURED,
            )
        )
        rows = {row["placed_by"]: row for row in per_user}
    memberships = {m.user_id: m for m in members_of(workspace)}
    users = {m.user_id: m.user for m in memberships.values()}
    missing = set(rows) - set(users)
    if missing:
        users.update({u.pk: u for u in get_user_model().objects.filter(pk__in=missing)})
    result = []
    for user_id, user in users.items():
        row = rows.get(user_id, {})
        membership = memberships.get(user_id)
        result.append(
            MemberSpending(
                user=user,
                role=membership.get_role_display() if membership else "",
                monthly_cap=membership.monthly_spend_cap if membership else None,
                held=row.get("held") or 0,
                spent_this_month=(row.get("month_captured") or 0) + (row.get("month_held") or 0),
                spent_total=row.get("total") or 0,
            )
        )
    result.sort(key=lambda r: (-r.spent_this_month, -r.spent_total, r.user.get_username()))
    return result
