"""The owner cancels from the job page: a queued job at once, one queued at the provider
there too; one the provider is already rendering says so and keeps going."""

import pytest
from django.urls import reverse

from lipsync_site.credits.models import CreditAccount, Hold
from lipsync_site.jobs.models import Status
from lipsync_site.jobs.workflow.submit import submit_job
from tests.factories import end, workspace_of

pytestmark = pytest.mark.django_db(transaction=True)


def cancel(client, job):
    response = client.post(reverse("jobs:cancel", args=[job.id]), follow=True)
    job.refresh_from_db()
    return response.content.decode()


def test_owner_cancels_a_queued_job(owner_client, owner, make_job):
    job = make_job()
    page = cancel(owner_client, job)
    assert job.status == Status.CANCELLED and job.hold.status == Hold.Status.RELEASED
    assert "Job cancelled; its credits were returned." in page
    assert CreditAccount.objects.get(workspace=workspace_of(owner)).balance == 1000


def test_job_queued_at_the_provider_is_cancelled_there(owner_client, site, runcomfy_sim, make_job, sync_tasks):
    runcomfy_sim.queue_polls = 100
    job = make_job()
    submit_job(job.pk)
    page = cancel(owner_client, job)
    assert job.status == Status.CANCELLED, page
    assert runcomfy_sim.runs[job.provider_request_id].status == "cancelled"
    assert len(runcomfy_sim.calls_to("cancel")) == 1


def test_running_job_cannot_be_cancelled_and_says_so(owner_client, site, runcomfy_sim, make_job, sync_tasks, drive):
    runcomfy_sim.inject("never_finishes")
    job = make_job()
    submit_job(job.pk)
    drive(lambda: job.refresh_from_db() or job.status == Status.RUNNING)
    page = cancel(owner_client, job)
    assert job.status == Status.RUNNING and job.hold.status == Hold.Status.OPEN
    assert "already rendering this job" in page
    assert "Cancel refused" in job.events.last().message
    end(job, "test over")  # settle, so the ledger check sees a finished job


def test_cancelling_a_finished_job_changes_nothing(owner_client, make_job):
    job = make_job()
    end(job, "broken")
    page = cancel(owner_client, job)
    assert job.status == Status.FAILED and "already finished" in page
