"""``manage.py track_jobs``: one tick polls what is due; a live lease keeps others out."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from lipsync_site.jobs.models import Job, Status
from lipsync_site.jobs.workflow.collect import collect_job
from lipsync_site.jobs.workflow.submit import submit_job
from tests.factories import end

pytestmark = pytest.mark.django_db(transaction=True)


def test_once_polls_the_due_jobs(site, runcomfy_sim, make_job, capsys):
    job = make_job()
    submit_job(job.pk)  # not sync: nothing else runs
    call_command("track_jobs", "--once", "--concurrency", "1")
    assert "polled 1" in capsys.readouterr().out
    job.refresh_from_db()
    assert job.poll_count == 1 and job.queue_position is not None and job.lease_owner == ""
    assert len(runcomfy_sim.calls_to("status")) == 1
    end(job, "test over")


def test_a_job_leased_by_a_live_worker_is_left_alone(site, runcomfy_sim, make_job, capsys):
    job = make_job()
    submit_job(job.pk)
    Job.objects.filter(pk=job.pk).update(lease_owner="busy", lease_expires_at=timezone.now() + timedelta(minutes=1))
    call_command("track_jobs", "--once", "--concurrency", "1")
    assert "polled 0" in capsys.readouterr().out
    assert runcomfy_sim.calls_to("status") == []
    end(job, "test over")


def test_a_collector_whose_lease_is_live_elsewhere_does_nothing(site, runcomfy_sim, make_job, sync_tasks):
    job = make_job()
    submit_job(job.pk)
    Job.objects.filter(pk=job.pk).update(
        status=Status.COLLECTING, lease_owner="other", lease_expires_at=timezone.now() + timedelta(minutes=1)
    )
    collect_job(job.pk)
    job.refresh_from_db()
    assert job.status == Status.COLLECTING and job.collect_attempts == 0
    assert runcomfy_sim.calls_to("download") == []
    end(job, "test over")
