# Media move into workspaces (issue 12), step 1 of 3: the column, nullable.

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("media", "0002_analysis_and_derivatives"),
        ("workspaces", "0002_personal_workspace_for_every_user"),
    ]

    operations = [
        migrations.AddField(
            model_name="asset",
            name="workspace",
            field=models.ForeignKey(
                null=True, on_delete=django.db.models.deletion.PROTECT, related_name="assets", to="workspaces.workspace"
            ),
        ),
    ]
