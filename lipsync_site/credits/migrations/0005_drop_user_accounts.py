# The ledger moves from users to workspaces (issue 12), step 3 of 3: the workspace is
# required and the user column goes.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("credits", "0004_personal_workspace_for_every_user"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveField(model_name="creditaccount", name="user"),
        migrations.AlterField(
            model_name="creditaccount",
            name="workspace",
            field=models.OneToOneField(
                on_delete=django.db.models.deletion.PROTECT, related_name="credit_account", to="workspaces.workspace"
            ),
        ),
        migrations.AlterField(
            model_name="hold",
            name="placed_by",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT, related_name="+", to=settings.AUTH_USER_MODEL
            ),
        ),
        migrations.AddIndex(
            model_name="hold",
            index=models.Index(fields=["account", "placed_by", "created_at"], name="credits_hol_account_placed_idx"),
        ),
    ]
