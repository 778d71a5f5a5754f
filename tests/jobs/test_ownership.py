"""Every job view answers 404 to a user who does not own the job."""

import pytest
from django.urls import reverse

from tests.jobs.test_end_to_end import form_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def job(owner_client, owner, clip, voice):
    from lipsync_site.jobs.models import Job

    owner_client.post(reverse("jobs:new"), form_data(clip, voice))
    return Job.objects.get(owner=owner)


@pytest.mark.parametrize("name", ["jobs:detail", "jobs:status"])
def test_outsider_gets_404(client, outsider, job, name):
    client.force_login(outsider)
    assert client.get(reverse(name, args=[job.id])).status_code == 404


def test_outsider_cannot_cancel(client, outsider, job):
    client.force_login(outsider)
    assert client.post(reverse("jobs:cancel", args=[job.id])).status_code == 404
    job.refresh_from_db()
    assert job.status == "queued"


def test_history_lists_only_own_jobs(client, outsider, job):
    client.force_login(outsider)
    assert str(job.id) not in client.get(reverse("jobs:list")).content.decode()


def test_owner_can_cancel_a_queued_job_and_gets_credits_back(owner_client, job):
    owner_client.post(reverse("jobs:cancel", args=[job.id]))
    job.refresh_from_db()
    job.hold.refresh_from_db()
    assert job.status == "cancelled" and job.hold.status == "released"


def test_signed_out_htmx_request_gets_hx_redirect(client, job):
    client.logout()
    response = client.get(reverse("jobs:status", args=[job.id]), headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert response["HX-Redirect"].startswith(reverse("account_login"))


def test_signed_out_page_request_redirects_to_login(client, job):
    client.logout()
    response = client.get(reverse("jobs:detail", args=[job.id]))
    assert response.status_code == 302 and response["Location"].startswith(reverse("account_login"))
