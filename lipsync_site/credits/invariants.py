"""The ledger's invariants, checked by ``manage.py check_ledger`` and after every test
that touches the database.

The ledger knows no job row: apps above it (jobs) register checks of their own
settlements with ``register_settlement_check`` from their ``AppConfig.ready``.
"""

from __future__ import annotations

from collections.abc import Callable

from django.db.models import Count, F, Q, Sum

from lipsync_site.credits.models import CreditAccount, Hold, LedgerEntry

_settlement_checks: list[Callable[[], list[str]]] = []


def register_settlement_check(check: Callable[[], list[str]]) -> None:
    if check not in _settlement_checks:
        _settlement_checks.append(check)


def ledger_problems() -> list[str]:
    """Every way the ledger disagrees with itself; empty when it is clean."""
    problems: list[str] = []
    sums = dict(
        LedgerEntry.objects.values("account_id").annotate(total=Sum("amount")).values_list("account_id", "total")
    )
    for account_id, balance, name in CreditAccount.objects.values_list("pk", "balance", "workspace__name"):
        total = sums.get(account_id) or 0
        if balance != total:
            problems.append(f"account {account_id} ({name}): cached balance {balance} != sum of entries {total}")
        if balance < 0:
            problems.append(f"account {account_id} ({name}): available balance {balance} is below zero")

    holds = Hold.objects.annotate(
        hold_entries=Count("entries", filter=Q(entries__kind=LedgerEntry.Kind.HOLD)),
        hold_sum=Sum("entries__amount", filter=Q(entries__kind=LedgerEntry.Kind.HOLD)),
        settlements=Count("entries", filter=Q(entries__kind__in=[LedgerEntry.Kind.CAPTURE, LedgerEntry.Kind.RELEASE])),
        settled_sum=Sum(
            "entries__amount", filter=Q(entries__kind__in=[LedgerEntry.Kind.CAPTURE, LedgerEntry.Kind.RELEASE])
        ),
        captures=Count("entries", filter=Q(entries__kind=LedgerEntry.Kind.CAPTURE)),
        refunds=Count("entries", filter=Q(entries__kind=LedgerEntry.Kind.REFUND)),
        refunded_sum=Sum("entries__amount", filter=Q(entries__kind=LedgerEntry.Kind.REFUND)),
    )
    for hold in holds:
        label = f"hold {hold.pk} ({hold.reference})"
        if hold.hold_entries != 1 or hold.hold_sum != -hold.amount:
            problems.append(
                f"{label}: {hold.hold_entries} hold entries summing {hold.hold_sum}, expected one of {-hold.amount}"
            )
        if hold.status == Hold.Status.OPEN:
            if hold.settlements:
                problems.append(f"{label}: open but has {hold.settlements} settlement entries")
            continue
        if hold.settlements != 1:
            problems.append(f"{label}: {hold.status} with {hold.settlements} settlement entries, expected exactly one")
            continue
        was_captured = hold.status in {Hold.Status.CAPTURED, Hold.Status.REFUNDED}
        charged = hold.captured_amount if was_captured else 0
        if hold.status == Hold.Status.REFUNDED and (hold.refunds != 1 or hold.refunded_sum != (charged or 0)):
            problems.append(f"{label}: refunded with {hold.refunds} refund entries, expected one of {charged}")
        elif hold.status != Hold.Status.REFUNDED and hold.refunds:
            problems.append(f"{label}: {hold.status} but has {hold.refunds} refund entries")
        if was_captured and (hold.captures != 1 or charged is None):
            problems.append(f"{label}: captured without a capture entry or amount")
            continue
        if hold.settled_sum != hold.amount - (charged or 0):
            problems.append(f"{label}: settlement returned {hold.settled_sum}, expected {hold.amount - (charged or 0)}")
        if charged is not None and charged > hold.amount:
            problems.append(f"{label}: captured {charged}, more than the {hold.amount} held")
    misattributed = LedgerEntry.objects.filter(hold__isnull=False).exclude(member_id=F("hold__placed_by_id"))
    for entry_id, kind, reference in misattributed.values_list("pk", "kind", "reference"):
        problems.append(f"entry {entry_id} ({kind} for {reference}) names another member than the one who held")
    for check in _settlement_checks:
        problems.extend(check())
    return problems
