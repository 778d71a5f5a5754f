# Media move into workspaces (issue 12), step 3 of 3: the workspace is required, and the
# same upload is stored once per workspace (it was once per user).

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("media", "0004_assets_into_personal_workspaces")]

    operations = [
        migrations.AlterField(
            model_name="asset",
            name="workspace",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT, related_name="assets", to="workspaces.workspace"
            ),
        ),
        migrations.RemoveConstraint(model_name="asset", name="one_upload_per_content"),
        migrations.AddConstraint(
            model_name="asset",
            constraint=models.UniqueConstraint(
                condition=models.Q(("origin", "upload")),
                fields=("workspace", "sha256", "kind"),
                name="one_upload_per_content_in_workspace",
            ),
        ),
    ]
