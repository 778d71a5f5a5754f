"""Issue 10, the job side: what a provider's real contract means for a job.

- a NemoVideo edit streams for minutes: the submit lease is renewed meanwhile, so the
  sweep never fails a job whose paid edit is still running (point 5);
- a NemoVideo token that cannot export fails the job before the edit is paid for, and the
  admin is told why (point 6);
- a transient answer while collecting (429 with Retry-After, 5xx, a timeout) is retried
  within the collection window; only a permanent answer fails a finished, paid job (point 11);
- a RunComfy submit answered 5xx is never resent (point 3; see also test_tracker).
"""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connections

from lipsync_site.credits.models import Hold
from lipsync_site.jobs.models import EventKind, Job, Status
from lipsync_site.jobs.sweep import sweep
from lipsync_site.jobs.workflow import submit
from lipsync_site.jobs.workflow.policy import Say

pytestmark = pytest.mark.django_db(transaction=True)


def refreshed(job):
    job.refresh_from_db()
    return job


def test_a_long_nemovideo_edit_keeps_its_submit_lease(site, nemo_sim, make_job, sync_tasks, settings):
    settings.JOBS_LEASE_SECONDS = 0.6
    nemo_sim.step_delay, nemo_sim.heartbeats = 0.3, 6  # the edit streams for about 2 s: three leases
    job = make_job(route_id="nemovideo-lipsync")
    stop = threading.Event()

    def sweeper():
        try:
            while not stop.is_set():
                sweep()
                time.sleep(0.05)
        finally:
            connections.close_all()

    thread = threading.Thread(target=sweeper)
    thread.start()
    try:
        submit.submit_job(job.pk)
    finally:
        stop.set()
        thread.join()
    job.refresh_from_db()
    assert not job.events.filter(kind=EventKind.SWEEP_ABANDONED).exists(), list(job.events.all())
    assert job.status == Status.PROVIDER_QUEUED and job.provider_request_id
    assert nemo_sim.submit_count == 1


def test_a_nemovideo_token_that_cannot_export_fails_the_job_before_the_edit_is_paid(
    site, nemo_sim, make_job, sync_tasks
):
    nemo_sim.set_export_allowed(False)
    job = make_job(route_id="nemovideo-lipsync")
    submit.submit_job(job.pk)
    job.refresh_from_db()
    assert job.status == Status.FAILED and job.error_message == Say.ACCOUNT_PROBLEM
    assert nemo_sim.submit_count == 0 and nemo_sim.calls_to("edit") == []
    assert job.hold.status == Hold.Status.RELEASED
    failed = job.events.filter(kind=EventKind.SUBMIT_FAILED).last()
    assert "cannot export" in failed.payload["detail"]  # the admin reads why


def test_collection_outlasts_transient_answers_on_the_download(
    site, runcomfy_sim, make_job, sync_tasks, drive, engine_settings
):
    # Six 429s in a row on the output: five collect attempts used to be all a job had.
    engine_settings.JOBS_REQUEUE_AFTER_SECONDS = 0.0
    runcomfy_sim.inject("rate_limit", count=6, endpoint="download", retry_after=0.1)
    job = make_job()
    submit.submit_job(job.pk)
    drive(lambda: refreshed(job).is_terminal, timeout=60, fast_forward=True)
    assert job.status == Status.SUCCEEDED, job.error_message
    assert job.events.filter(kind=EventKind.COLLECT_RETRY).count() == 6


def test_collection_under_rate_limits_on_half_the_status_and_result_calls(
    site, runcomfy_sim, make_job, sync_tasks, drive, engine_settings
):
    # The account: with 429 (Retry-After: 1) on every other status and result call,
    # one job in five ended "We could not download the provider's output".
    engine_settings.JOBS_REQUEUE_AFTER_SECONDS = 0.0
    for endpoint in ("status", "result"):
        runcomfy_sim.inject("rate_limit", count=1000, endpoint=endpoint, every=2, retry_after=1)
    jobs = [make_job() for _ in range(3)]
    for job in jobs:
        submit.submit_job(job.pk)
    drive(lambda: all(refreshed(job).is_terminal for job in jobs), timeout=120, fast_forward=True)
    assert [job.status for job in jobs] == [Status.SUCCEEDED] * 3, [job.error_message for job in jobs]
    assert runcomfy_sim.submit_count == 3


def test_collection_gives_up_only_when_its_window_closes(
    site, runcomfy_sim, make_job, sync_tasks, drive, engine_settings
):
    engine_settings.JOBS_COLLECT_DEADLINE_SECONDS = 1.0
    runcomfy_sim.inject("server_error", count=1000, endpoint="download", status=503)
    job = make_job()
    submit.submit_job(job.pk)
    drive(lambda: refreshed(job).is_terminal, timeout=60, fast_forward=True)
    assert job.status == Status.FAILED and job.error_message == Say.NOT_COLLECTED
    assert job.hold.status == Hold.Status.RELEASED


def test_a_permanent_answer_while_collecting_fails_at_once(site, runcomfy_sim, make_job, sync_tasks, drive):
    runcomfy_sim.inject("disallowed_host")
    job = make_job()
    submit.submit_job(job.pk)
    drive(lambda: refreshed(job).is_terminal, timeout=30)
    assert job.status == Status.FAILED and "host" in job.error_message
    assert not job.events.filter(kind=EventKind.COLLECT_RETRY).exists()


def test_a_runcomfy_submit_answered_5xx_is_an_unknown_fate_for_an_admin(site, runcomfy_sim, make_job, sync_tasks):
    runcomfy_sim.inject("accepted_then_error", endpoint="submit", status=502)
    job = make_job()
    submit.submit_job(job.pk)
    job.refresh_from_db()
    assert job.status == Status.FAILED and job.error_message == Say.UNKNOWN_SUBMISSION
    assert job.events.filter(kind=EventKind.SUBMIT_UNKNOWN).exists()
    assert runcomfy_sim.submit_count == 1 and len(runcomfy_sim.calls_to("submit")) == 1
    assert Job.objects.get(pk=job.pk).hold.status == Hold.Status.RELEASED
