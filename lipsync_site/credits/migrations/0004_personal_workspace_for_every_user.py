# The ledger moves from users to workspaces (issue 12), step 2 of 3: every existing user
# gets a personal workspace they own, and their credit account, holds and ledger entries
# move into it unchanged (no amount is touched, so the ledger check stays clean; see
# tests/credits/test_workspace_migration.py).

from django.db import migrations

SETTLED_BY_MEMBER = ("hold", "capture", "release", "refund")


def users_into_personal_workspaces(apps, schema_editor):
    User = apps.get_model("accounts", "User")
    Workspace = apps.get_model("workspaces", "Workspace")
    Membership = apps.get_model("workspaces", "Membership")
    CreditAccount = apps.get_model("credits", "CreditAccount")
    Hold = apps.get_model("credits", "Hold")
    LedgerEntry = apps.get_model("credits", "LedgerEntry")

    for user in User.objects.order_by("pk").iterator():
        workspace = Workspace.objects.create(name=f"{user.username}'s workspace"[:100], personal=True)
        Membership.objects.create(workspace=workspace, user=user, role="owner")
        account = CreditAccount.objects.filter(user=user).first()
        if account is None:
            continue
        CreditAccount.objects.filter(pk=account.pk).update(workspace=workspace)
        Hold.objects.filter(account=account).update(placed_by=user)
        LedgerEntry.objects.filter(account=account, kind__in=SETTLED_BY_MEMBER).update(member=user)


def workspaces_back_to_users(apps, schema_editor):
    CreditAccount = apps.get_model("credits", "CreditAccount")
    Membership = apps.get_model("workspaces", "Membership")
    Workspace = apps.get_model("workspaces", "Workspace")
    for account in CreditAccount.objects.exclude(workspace=None).iterator():
        owner = (
            Membership.objects.filter(workspace_id=account.workspace_id, role="owner")
            .order_by("joined_at", "pk")
            .first()
        )
        if owner is None or CreditAccount.objects.filter(user_id=owner.user_id).exclude(pk=account.pk).exists():
            raise RuntimeError(
                f"credit account {account.pk} cannot go back to a single user: its workspace has no owner of its own"
            )
        CreditAccount.objects.filter(pk=account.pk).update(user_id=owner.user_id, workspace=None)
    Workspace.objects.filter(personal=True).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("credits", "0003_accounts_belong_to_workspaces"),
        ("accounts", "0001_initial"),
    ]

    operations = [migrations.RunPython(users_into_personal_workspaces, workspaces_back_to_users)]
