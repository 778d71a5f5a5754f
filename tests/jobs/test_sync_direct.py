"""Jobs on Sync Labs direct, through the workflow, against the Sync simulator and our live
site: settled by signed webhook or by polling, a lost submit answer resent with the same
idempotency key (the one provider that allows it), forged webhooks refused."""

from __future__ import annotations

import json
import time

import pytest
from django.urls import reverse

from lipsync_site.credits.models import Hold
from lipsync_site.jobs.models import EventKind, Job, Status
from lipsync_site.jobs.sweep import sweep
from lipsync_site.jobs.workflow import submit
from lipsync_site.providers.simulators.common import wait_until
from lipsync_site.providers.syncso import SIMULATOR_WEBHOOK_SECRET, sign_webhook

pytestmark = pytest.mark.django_db(transaction=True)


def refreshed(job):
    job.refresh_from_db()
    return job


def test_a_job_is_settled_by_the_signed_webhook_without_a_poll(site, sync_sim, make_job, sync_tasks):
    job = make_job(route_id="sync-direct-2-pro")
    submit.submit_job(job.pk)
    job.refresh_from_db()
    assert job.status == Status.PROVIDER_QUEUED
    (call,) = sync_sim.calls_to("submit")
    assert call["body"]["webhookUrl"] == site.url + reverse("jobs:sync_webhook")
    assert call["headers"]["Idempotency-Key"] == f"lipsync-{job.pk}"

    # Nobody polls: the webhook alone moves the job to collecting, and collecting delivers.
    assert wait_until(lambda: refreshed(job).status == Status.SUCCEEDED, timeout=30), list(job.events.all())
    assert job.poll_count == 0
    assert job.output is not None and job.hold.status == Hold.Status.CAPTURED
    assert wait_until(lambda: [record["status"] for record in sync_sim.deliveries] == [200])


def test_a_job_is_settled_by_polling_when_no_webhook_comes(site, sync_sim, make_job, sync_tasks, drive):
    sync_sim.webhook_mode = "none"
    job = make_job(route_id="sync-direct-2")
    submit.submit_job(job.pk)
    drive(lambda: refreshed(job).is_terminal, timeout=30)
    assert job.status == Status.SUCCEEDED and job.poll_count > 0
    assert sync_sim.deliveries == []


def test_a_failed_delivery_is_retried_and_a_duplicate_changes_nothing(site, sync_sim, make_job, sync_tasks):
    sync_sim.webhook_mode = "duplicate"
    job = make_job(route_id="sync-direct-2")
    submit.submit_job(job.pk)
    assert wait_until(lambda: refreshed(job).status == Status.SUCCEEDED, timeout=30)
    assert wait_until(lambda: len(sync_sim.deliveries) == 2)
    time.sleep(0.2)
    assert refreshed(job).status == Status.SUCCEEDED
    assert job.events.filter(kind=EventKind.COLLECT_SUCCEEDED).count() == 1


@pytest.mark.parametrize("mode", ["bad_signature", "stale"])
def test_forged_and_stale_webhooks_move_nothing(mode, site, sync_sim, make_job, sync_tasks):
    sync_sim.webhook_mode = mode
    sync_sim.webhook_attempts = 2
    job = make_job(route_id="sync-direct-2")
    submit.submit_job(job.pk)
    assert wait_until(lambda: len(sync_sim.deliveries) == 2, timeout=30)
    assert [record["status"] for record in sync_sim.deliveries] == [400, 400]  # refused, so Sync retried
    assert refreshed(job).status == Status.PROVIDER_QUEUED
    assert job.poll_count == 0


def test_the_webhook_endpoint_refuses_unsigned_posts_and_is_csrf_exempt_only_by_signature(client, make_job, settings):
    settings.SYNC_API_KEY = ""
    settings.PROVIDER_SIMULATORS = True
    job = make_job(route_id="sync-direct-2")
    Job.objects.filter(pk=job.pk).update(status=Status.PROVIDER_QUEUED, provider_request_id="gen-1")
    body = json.dumps({"id": "gen-1", "status": "FAILED", "error": "nope"}).encode()
    url = reverse("jobs:sync_webhook")

    assert client.post(url, body, content_type="application/json").status_code == 400
    assert client.get(url).status_code == 405
    forged = sign_webhook(body, secret="whsec_someone_else")
    assert client.post(url, body, content_type="application/json", HTTP_SYNC_SIGNATURE=forged).status_code == 400
    assert refreshed(job).status == Status.PROVIDER_QUEUED

    signed = sign_webhook(body, secret=SIMULATOR_WEBHOOK_SECRET)
    response = client.post(url, body, content_type="application/json", HTTP_SYNC_SIGNATURE=signed)
    assert response.status_code == 200
    assert refreshed(job).status == Status.FAILED and "nope" in job.error_message
    assert job.hold.status == Hold.Status.RELEASED


def test_a_webhook_about_an_unknown_generation_is_acknowledged(client, settings):
    settings.SYNC_API_KEY = ""
    settings.PROVIDER_SIMULATORS = True
    body = b'{"id":"not-ours","status":"COMPLETED"}'
    signed = sign_webhook(body, secret=SIMULATOR_WEBHOOK_SECRET)
    response = client.post(
        reverse("jobs:sync_webhook"), body, content_type="application/json", HTTP_SYNC_SIGNATURE=signed
    )
    assert response.status_code == 200  # nothing to do, and no reason for Sync to retry


@pytest.mark.parametrize("fault", ["accepted_then_error", "accepted_then_drop", "server_error"])
def test_a_lost_submit_answer_is_resent_with_the_same_key_and_pays_once(
    fault, site, sync_sim, make_job, sync_tasks, drive
):
    sync_sim.inject(fault, endpoint="submit", status=502)
    job = make_job(route_id="sync-direct-2")
    submit.submit_job(job.pk)
    job.refresh_from_db()
    assert job.status == Status.QUEUED and job.provider_request_id == ""
    assert job.events.filter(kind=EventKind.SUBMIT_REQUEUED).exists()

    time.sleep(1.1)  # a later second: freshly signed input links would differ, and the body with them
    submit.submit_job(job.pk)  # what the sweep or a freed slot does next
    job.refresh_from_db()
    assert job.status == Status.PROVIDER_QUEUED and job.submit_attempts == 2
    keys = {call["headers"]["Idempotency-Key"] for call in sync_sim.calls_to("submit")}
    assert keys == {f"lipsync-{job.pk}"}
    first, second = (call["body"] for call in sync_sim.calls_to("submit"))
    assert first == second  # the same request, as Sync's idempotency asks
    assert sync_sim.submit_count == 1 and list(sync_sim.generations) == [job.provider_request_id]
    # Its webhook may have come while the job waited to be resent (nothing to match it to
    # then): polling settles it.
    drive(lambda: refreshed(job).is_terminal, timeout=30)
    assert job.status == Status.SUCCEEDED


def test_an_unknown_fate_is_not_resent_forever(site, sync_sim, make_job, sync_tasks):
    sync_sim.inject("server_error", endpoint="submit", status=503, count=10)
    job = make_job(route_id="sync-direct-2")
    for _ in range(5):
        submit.submit_job(job.pk)
    job.refresh_from_db()
    assert job.status == Status.FAILED and "could not confirm" in job.error_message
    assert job.submit_attempts == 3 and job.hold.status == Hold.Status.RELEASED


def test_the_sweep_resends_a_sync_submission_whose_worker_died(make_job, settings):
    from datetime import timedelta

    from django.utils import timezone

    job = make_job(route_id="sync-direct-2")
    Job.objects.filter(pk=job.pk).update(
        status=Status.SUBMITTING,
        lease_owner="dead-worker",
        lease_expires_at=timezone.now() - timedelta(seconds=1),
        submit_attempts=1,
    )
    assert sweep()["abandoned_submissions"] == 1
    job.refresh_from_db()
    assert job.status == Status.QUEUED and job.provider_request_id == ""
    assert "same idempotency key" in job.events.last().message


def test_polling_sync_stays_within_its_documented_calls_a_minute(settings):
    from lipsync_site.jobs.workflow.policy import calls_per_minute

    settings.PROVIDER_CALLS_PER_MINUTE = 600
    assert calls_per_minute("syncso") == 60
    assert calls_per_minute("runcomfy") == 600
