"""The data migrations on a populated database: every existing user gets a personal
workspace holding their credit account, holds, entries and files, and the ledger check is
clean before and after."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.db.models import Sum

from lipsync_site.credits.invariants import ledger_problems
from lipsync_site.credits.models import CreditAccount, Hold, LedgerEntry
from lipsync_site.workspaces.models import Membership, Workspace

pytestmark = pytest.mark.django_db(transaction=True)


def old_ledger_problems(apps) -> list[str]:
    """The ledger check as it was before workspaces, on the historical models."""
    CreditAccount = apps.get_model("credits", "CreditAccount")
    LedgerEntry = apps.get_model("credits", "LedgerEntry")
    Hold = apps.get_model("credits", "Hold")
    problems = []
    for account in CreditAccount.objects.all():
        total = LedgerEntry.objects.filter(account=account).aggregate(t=Sum("amount"))["t"] or 0
        if account.balance != total or account.balance < 0:
            problems.append(f"account {account.pk}: balance {account.balance}, entries {total}")
    for hold in Hold.objects.all():
        placed = LedgerEntry.objects.filter(hold=hold, kind="hold").count()
        settled = LedgerEntry.objects.filter(hold=hold, kind__in=["capture", "release"]).count()
        if placed != 1 or settled != (0 if hold.status == "open" else 1):
            problems.append(f"hold {hold.reference}: {placed} placed, {settled} settled, {hold.status}")
    return problems


def populate_old_ledger(apps):
    User = apps.get_model("accounts", "User")
    CreditAccount = apps.get_model("credits", "CreditAccount")
    Hold = apps.get_model("credits", "Hold")
    LedgerEntry = apps.get_model("credits", "LedgerEntry")
    alice = User.objects.create(username="alice", email="alice@example.com")
    bob = User.objects.create(username="bob", email="bob@example.com")
    User.objects.create(username="carol")  # never had credits
    admin = User.objects.create(username="root", is_staff=True, is_superuser=True)

    def entry(account, kind, amount, hold=None, actor=None):
        LedgerEntry.objects.create(
            account=account, kind=kind, amount=amount, hold=hold, reference=hold.reference if hold else "",
            actor=actor, reason=kind,
        )  # fmt: skip

    a = CreditAccount.objects.create(user=alice, balance=0)
    entry(a, "grant", 1000, actor=admin)
    open_hold = Hold.objects.create(account=a, amount=50, reference="job-open")
    entry(a, "hold", -50, open_hold)
    captured = Hold.objects.create(account=a, amount=40, reference="job-done", status="captured", captured_amount=30)
    entry(a, "hold", -40, captured)
    entry(a, "capture", 10, captured)
    released = Hold.objects.create(account=a, amount=25, reference="job-failed", status="released")
    entry(a, "hold", -25, released)
    entry(a, "release", 25, released)
    refunded = Hold.objects.create(account=a, amount=20, reference="job-revoked", status="refunded", captured_amount=20)
    entry(a, "hold", -20, refunded)
    entry(a, "capture", 0, refunded)
    entry(a, "refund", 20, refunded, actor=admin)
    entry(a, "adjustment", -100, actor=admin)
    CreditAccount.objects.filter(pk=a.pk).update(balance=1000 - 50 - 30 - 100)
    b = CreditAccount.objects.create(user=bob, balance=200)
    entry(b, "grant", 200)
    apps.get_model("media", "Asset").objects.create(
        owner=alice, kind="video", file="assets/1/ab/clip.mp4", extension=".mp4", content_type="video/mp4",
        sha256="0" * 64, size_bytes=10,
    )  # fmt: skip


def test_users_and_ledgers_move_into_personal_workspaces_with_the_ledger_clean():
    executor = MigrationExecutor(connection)
    # Back to before workspaces: everything that depends on them is unapplied too.
    executor.migrate([("workspaces", None)])
    executor.loader.build_graph()
    old_apps = executor._create_project_state(with_applied_migrations=True).apps
    assert "user" in {field.name for field in old_apps.get_model("credits", "CreditAccount")._meta.fields}
    populate_old_ledger(old_apps)
    assert old_ledger_problems(old_apps) == []

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    assert ledger_problems() == []
    for username in ("alice", "bob", "carol", "root"):
        membership = Membership.objects.select_related("workspace").get(user__username=username)
        assert membership.role == "owner" and membership.workspace.personal
        assert membership.workspace.name == f"{username}'s workspace"
    assert Workspace.objects.count() == 4
    alice_account = CreditAccount.objects.get(workspace__memberships__user__username="alice")
    assert alice_account.balance == 820
    assert CreditAccount.objects.get(workspace__memberships__user__username="bob").balance == 200
    assert CreditAccount.objects.get(workspace__memberships__user__username="carol").balance == 0
    assert set(Hold.objects.values_list("placed_by__username", flat=True)) == {"alice"}
    from lipsync_site.media.models import Asset

    assert Asset.objects.get().workspace == Workspace.objects.get(memberships__user__username="alice")
    members = dict(LedgerEntry.objects.filter(account=alice_account).values_list("kind", "member__username"))
    assert members == {
        "grant": None,
        "adjustment": None,
        "hold": "alice",
        "capture": "alice",
        "release": "alice",
        "refund": "alice",
    }
