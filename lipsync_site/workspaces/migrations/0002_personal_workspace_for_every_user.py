# Every user made before workspaces gets a personal workspace they own (issue 12). The
# apps that move their rows into workspaces (credits, media, jobs) find it through the
# owner's membership; see tests/credits/test_workspace_migration.py.

from django.db import migrations


def personal_workspaces(apps, schema_editor):
    User = apps.get_model("accounts", "User")
    Workspace = apps.get_model("workspaces", "Workspace")
    Membership = apps.get_model("workspaces", "Membership")
    for user in User.objects.order_by("pk").iterator():
        if Membership.objects.filter(user=user, role="owner", workspace__personal=True).exists():
            continue
        workspace = Workspace.objects.create(name=f"{user.username}'s workspace"[:100], personal=True)
        Membership.objects.create(workspace=workspace, user=user, role="owner")


def remove_personal_workspaces(apps, schema_editor):
    apps.get_model("workspaces", "Workspace").objects.filter(personal=True).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("workspaces", "0001_workspaces_members_invitations"),
        ("accounts", "0001_initial"),
    ]

    operations = [migrations.RunPython(personal_workspaces, remove_personal_workspaces)]
