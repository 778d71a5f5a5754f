# Jobs move into workspaces (issue 12), step 2 of 3: a job goes where its credit hold
# went (the owner's personal workspace, credits 0004), so job and hold never disagree.

from django.db import migrations
from django.db.models import OuterRef, Subquery


def jobs_into_their_holds_workspace(apps, schema_editor):
    Job = apps.get_model("jobs", "Job")
    Hold = apps.get_model("credits", "Hold")
    holds_workspace = Hold.objects.filter(pk=OuterRef("hold_id")).values("account__workspace_id")[:1]
    Job.objects.filter(workspace=None).update(workspace_id=Subquery(holds_workspace))


class Migration(migrations.Migration):
    dependencies = [("jobs", "0005_jobs_belong_to_workspaces")]

    operations = [migrations.RunPython(jobs_into_their_holds_workspace, migrations.RunPython.noop)]
