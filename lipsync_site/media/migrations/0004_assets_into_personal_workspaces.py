# Media move into workspaces (issue 12), step 2 of 3: every file goes to its owner's
# personal workspace (made by workspaces 0002), where that owner's jobs also go.

from django.db import migrations


def assets_into_personal_workspaces(apps, schema_editor):
    Asset = apps.get_model("media", "Asset")
    Membership = apps.get_model("workspaces", "Membership")
    owners = Asset.objects.filter(workspace=None).values_list("owner_id", flat=True).distinct()
    for owner_id in list(owners):
        personal = Membership.objects.get(user_id=owner_id, role="owner", workspace__personal=True)
        Asset.objects.filter(workspace=None, owner_id=owner_id).update(workspace_id=personal.workspace_id)


class Migration(migrations.Migration):
    dependencies = [("media", "0003_assets_belong_to_workspaces")]

    operations = [migrations.RunPython(assets_into_personal_workspaces, migrations.RunPython.noop)]
