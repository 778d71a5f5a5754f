"""The sweep finds what the queue forgot and what dead workers left behind."""

from datetime import timedelta

import pytest
from django.utils import timezone

from lipsync_site.credits.models import CreditAccount, Hold
from lipsync_site.jobs.models import Job, Status
from lipsync_site.jobs.sweep import sweep
from tests.factories import workspace_of

pytestmark = pytest.mark.django_db


def submitting(job, *, expired=True, request_id=""):
    now = timezone.now()
    Job.objects.filter(pk=job.pk).update(
        status=Status.SUBMITTING,
        lease_owner="dead-worker",
        lease_expires_at=now + timedelta(seconds=-1 if expired else 60),
        provider_request_id=request_id,
        submit_attempts=1,
        started_at=now,
    )
    job.refresh_from_db()
    return job


def test_submission_abandoned_before_an_answer_fails_visibly_and_releases(make_job, owner):
    job = submitting(make_job())
    assert sweep()["abandoned_submissions"] == 1
    job.refresh_from_db()
    assert job.status == Status.FAILED and "could not confirm" in job.error_message
    assert job.hold.status == Hold.Status.RELEASED
    assert CreditAccount.objects.get(workspace=workspace_of(owner)).balance == 1000
    assert job.events.last().actor == "sweep"


def test_submission_abandoned_after_the_request_id_was_saved_goes_on_to_polling(make_job):
    job = submitting(make_job(), request_id="req-1")
    sweep()
    job.refresh_from_db()
    assert job.status == Status.PROVIDER_QUEUED and job.next_poll_at is not None and job.lease_owner == ""
    assert job.hold.status == Hold.Status.OPEN


def test_a_live_submission_is_left_alone(make_job):
    job = submitting(make_job(), expired=False)
    assert sweep()["abandoned_submissions"] == 0
    job.refresh_from_db()
    assert job.status == Status.SUBMITTING


def test_a_forgotten_queued_job_is_enqueued_again(make_job, settings, sync_tasks, django_capture_on_commit_callbacks):
    settings.JOBS_REQUEUE_AFTER_SECONDS = 60
    job = make_job(route_id="local-draft")
    Job.objects.filter(pk=job.pk).update(created_at=timezone.now() - timedelta(seconds=61))
    with django_capture_on_commit_callbacks(execute=True):
        assert sweep()["requeued_submissions"] == 1
    job.refresh_from_db()
    assert job.status == Status.SUCCEEDED  # the local engine ran it inline (sync mode)
    assert job.submit_attempts == 1


def test_a_recently_enqueued_job_is_not_enqueued_twice(make_job, settings):
    settings.JOBS_REQUEUE_AFTER_SECONDS = 60
    make_job()
    assert sweep()["requeued_submissions"] == 0


def test_an_overdue_job_fails_and_releases(make_job, owner):
    job = make_job()
    Job.objects.filter(pk=job.pk).update(
        status=Status.RUNNING, provider_request_id="gone", deadline_at=timezone.now() - timedelta(seconds=1)
    )
    sweep()
    job.refresh_from_db()
    assert job.status == Status.FAILED and job.hold.status == Hold.Status.RELEASED
