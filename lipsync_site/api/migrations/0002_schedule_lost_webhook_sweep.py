"""django-q2's scheduler runs the sweep that re-sends webhook deliveries the queue lost."""

from django.db import migrations

NAME = "api: resend lost webhook deliveries"


def schedule(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.update_or_create(
        name=NAME,
        defaults={"func": "lipsync_site.api.tasks.resend_lost_webhooks", "schedule_type": "I", "minutes": 5, "repeats": -1},
    )


def unschedule(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("api", "0001_initial"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [migrations.RunPython(schedule, unschedule)]
