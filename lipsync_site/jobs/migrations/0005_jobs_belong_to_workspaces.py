# Jobs move into workspaces (issue 12), step 1 of 3: the column, nullable.

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("jobs", "0004_revoked_and_event_kinds"),
        ("workspaces", "0002_personal_workspace_for_every_user"),
        ("credits", "0005_drop_user_accounts"),
    ]

    operations = [
        migrations.AddField(
            model_name="job",
            name="workspace",
            field=models.ForeignKey(
                null=True, on_delete=django.db.models.deletion.PROTECT, related_name="jobs", to="workspaces.workspace"
            ),
        ),
    ]
