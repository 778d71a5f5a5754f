# The ledger moves from users to workspaces (issue 12), step 2 of 3: each user's credit
# account, holds and ledger entries move unchanged into their personal workspace (made by
# workspaces 0002). No amount is touched, so the ledger check stays clean; see
# tests/credits/test_workspace_migration.py.

from django.db import migrations

SETTLED_BY_MEMBER = ("hold", "capture", "release", "refund")


def accounts_into_personal_workspaces(apps, schema_editor):
    Membership = apps.get_model("workspaces", "Membership")
    CreditAccount = apps.get_model("credits", "CreditAccount")
    Hold = apps.get_model("credits", "Hold")
    LedgerEntry = apps.get_model("credits", "LedgerEntry")
    for account in CreditAccount.objects.filter(workspace=None).order_by("pk").iterator():
        personal = Membership.objects.get(user_id=account.user_id, role="owner", workspace__personal=True)
        CreditAccount.objects.filter(pk=account.pk).update(workspace_id=personal.workspace_id)
        Hold.objects.filter(account=account).update(placed_by_id=account.user_id)
        LedgerEntry.objects.filter(account=account, kind__in=SETTLED_BY_MEMBER).update(member_id=account.user_id)
    # Workspaces of users who never had credits get an empty account, as new workspaces do
    # (site admins grant from the credit accounts list).
    Workspace = apps.get_model("workspaces", "Workspace")
    for workspace in Workspace.objects.filter(credit_account__isnull=True).iterator():
        CreditAccount.objects.create(workspace=workspace, balance=0)


def accounts_back_to_users(apps, schema_editor):
    Membership = apps.get_model("workspaces", "Membership")
    CreditAccount = apps.get_model("credits", "CreditAccount")
    for account in CreditAccount.objects.exclude(workspace=None).iterator():
        owner = (
            Membership.objects.filter(workspace_id=account.workspace_id, role="owner")
            .order_by("joined_at", "pk")
            .first()
        )
        if owner is None or CreditAccount.objects.filter(user_id=owner.user_id).exclude(pk=account.pk).exists():
            raise RuntimeError(f"credit account {account.pk} cannot go back to a single user")
        if not account.balance and not account.entries.exists():
            account.delete()  # opened empty by the forward step
            continue
        CreditAccount.objects.filter(pk=account.pk).update(user_id=owner.user_id, workspace=None)


class Migration(migrations.Migration):
    dependencies = [
        ("credits", "0003_accounts_belong_to_workspaces"),
        ("workspaces", "0002_personal_workspace_for_every_user"),
    ]

    operations = [migrations.RunPython(accounts_into_personal_workspaces, accounts_back_to_users)]
