# Jobs move into workspaces (issue 12), step 3 of 3: the workspace is required, and the
# history (a workspace's jobs, newest first) has its index.

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("jobs", "0006_jobs_into_their_holds_workspace")]

    operations = [
        migrations.AlterField(
            model_name="job",
            name="workspace",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT, related_name="jobs", to="workspaces.workspace"
            ),
        ),
        migrations.AddIndex(
            model_name="job",
            index=models.Index(fields=["workspace", "-created_at"], name="jobs_job_workspace_created_idx"),
        ),
    ]
