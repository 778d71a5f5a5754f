"""The tracker against the RunComfy simulator over HTTP: jobs go from queued to settled,
faults of every kind end in a clean state, and the provider is never asked twice."""

from datetime import timedelta

import pytest
from django.utils import timezone

from lipsync_site.credits.models import CreditAccount, Hold
from lipsync_site.jobs.models import Job, Status
from lipsync_site.jobs.tracker import Tracker, claim_due_jobs, take_calls
from lipsync_site.jobs.workflow import policy
from lipsync_site.jobs.workflow.leases import Lease
from lipsync_site.jobs.workflow.submit import submit_job
from tests.factories import end, workspace_of

pytestmark = pytest.mark.django_db(transaction=True)


def refreshed(job):
    job.refresh_from_db()
    return job


def test_job_runs_through_the_simulator_and_captures_its_hold(site, runcomfy_sim, make_job, owner, sync_tasks, drive):
    job = make_job()
    submit_job(job.pk)
    assert refreshed(job).status == Status.PROVIDER_QUEUED and job.provider_request_id
    drive(lambda: refreshed(job).is_terminal)

    assert job.status == Status.SUCCEEDED, list(job.events.values_list("message", flat=True))
    assert job.output.kind == "video"
    assert job.hold.status == Hold.Status.CAPTURED and job.charged_credits <= job.hold.amount
    assert CreditAccount.objects.get(workspace=workspace_of(owner)).balance == 1000 - job.charged_credits
    assert runcomfy_sim.submit_count == 1
    statuses = [e.to_status for e in job.events.order_by("at", "id") if e.from_status != e.to_status]
    assert statuses == ["queued", "submitting", "provider_queued", "running", "collecting", "succeeded"]
    assert job.lease_owner == "" and job.lease_expires_at is None


def test_a_second_delivery_of_submit_sends_nothing(site, runcomfy_sim, make_job, sync_tasks):
    job = make_job()
    submit_job(job.pk)
    submit_job(job.pk)
    assert runcomfy_sim.submit_count == 1
    assert refreshed(job).submit_attempts == 1


@pytest.mark.parametrize(
    ("fault", "params"),
    [
        ("rate_limit", {"retry_after": 1}),
        ("server_error", {}),
        ("drop", {}),
        ("malformed_json", {}),
        ("error_200", {}),  # an error body with HTTP 200 (RunComfy does this)
        ("slow", {"seconds": 2.5}),  # past the 2 s client timeout
    ],
)
def test_poll_faults_are_retried_and_the_job_still_succeeds(
    site, runcomfy_sim, make_job, sync_tasks, drive, fault, params
):
    job = make_job()
    submit_job(job.pk)
    runcomfy_sim.inject(fault, count=2, endpoint="status", **params)
    drive(lambda: refreshed(job).is_terminal, timeout=30, fast_forward=True)
    assert job.status == Status.SUCCEEDED, list(job.events.values_list("message", flat=True))
    assert runcomfy_sim.submit_count == 1


def test_retry_after_is_obeyed(site, runcomfy_sim, make_job, sync_tasks, engine_settings):
    job = make_job()
    submit_job(job.pk)
    runcomfy_sim.inject("rate_limit", count=1, endpoint="status", retry_after=7)
    before = timezone.now()
    Tracker(concurrency=1, sweep_every=1e9).tick()
    job.refresh_from_db()
    assert job.next_poll_at >= before + timedelta(seconds=7)
    assert job.status == Status.PROVIDER_QUEUED and job.lease_owner == ""


@pytest.mark.parametrize(
    ("fault", "endpoint"),
    [("rate_limit", "submit"), ("server_error", "submit")],
)
def test_submit_refused_before_it_reached_the_provider_is_sent_again(
    site, runcomfy_sim, make_job, sync_tasks, drive, engine_settings, fault, endpoint
):
    runcomfy_sim.inject(fault, count=1, endpoint=endpoint, retry_after=0)
    job = make_job()
    submit_job(job.pk)
    job.refresh_from_db()
    assert job.status == Status.QUEUED and job.submit_attempts == 1
    engine_settings.JOBS_REQUEUE_AFTER_SECONDS = 0.0
    drive(lambda: refreshed(job).is_terminal, sweep_every=0.0, fast_forward=True)
    assert job.status == Status.SUCCEEDED
    assert runcomfy_sim.submit_count == 1 and job.submit_attempts == 2


@pytest.mark.parametrize("fault", ["drop", "slow", "malformed_json"])
def test_submission_with_unknown_fate_is_never_resent(site, runcomfy_sim, make_job, owner, sync_tasks, fault):
    runcomfy_sim.inject(fault, count=1, endpoint="submit", seconds=2.5)
    job = make_job()
    submit_job(job.pk)
    job.refresh_from_db()
    assert job.status == Status.FAILED
    assert "could not confirm" in job.error_message
    assert job.hold.status == Hold.Status.RELEASED
    assert CreditAccount.objects.get(workspace=workspace_of(owner)).balance == 1000
    assert len(runcomfy_sim.calls_to("submit")) == 1


def test_failed_run_fails_the_job_and_releases(site, runcomfy_sim, make_job, owner, sync_tasks, drive):
    runcomfy_sim.inject("failed_run", message="No face found in the video.")
    job = make_job()
    submit_job(job.pk)
    drive(lambda: refreshed(job).is_terminal)
    assert job.status == Status.FAILED and "No face found" in job.error_message
    assert job.hold.status == Hold.Status.RELEASED
    assert CreditAccount.objects.get(workspace=workspace_of(owner)).balance == 1000


@pytest.mark.parametrize("fault", ["disallowed_host", "oversize_output"])
def test_unacceptable_output_fails_without_charging(
    site, runcomfy_sim, make_job, owner, sync_tasks, drive, settings, fault
):
    settings.PROVIDER_DOWNLOAD_MAX_BYTES = 1024 * 1024
    runcomfy_sim.inject(fault, bytes=4 * 1024 * 1024)
    job = make_job()
    submit_job(job.pk)
    drive(lambda: refreshed(job).is_terminal)
    assert job.status == Status.FAILED
    assert job.hold.status == Hold.Status.RELEASED and job.output is None


def test_truncated_downloads_are_retried_then_given_up(
    site, runcomfy_sim, make_job, owner, sync_tasks, drive, engine_settings
):
    engine_settings.JOBS_REQUEUE_AFTER_SECONDS = 0.0
    runcomfy_sim.inject("truncated_output")
    job = make_job()
    submit_job(job.pk)
    drive(lambda: refreshed(job).is_terminal, timeout=30, fast_forward=True)
    assert job.status == Status.FAILED
    assert job.collect_attempts == policy.MAX_COLLECT_ATTEMPTS + 1
    assert job.hold.status == Hold.Status.RELEASED


def test_job_past_its_time_limit_is_cancelled_and_released(
    site, runcomfy_sim, make_job, owner, sync_tasks, drive, engine_settings
):
    runcomfy_sim.inject("never_finishes")
    job = make_job()
    submit_job(job.pk)
    drive(lambda: refreshed(job).status == Status.RUNNING)
    Job.objects.filter(pk=job.pk).update(deadline_at=timezone.now() - timedelta(seconds=1))
    drive(lambda: refreshed(job).is_terminal)
    assert job.status == Status.FAILED and "longer than its route allows" in job.error_message
    assert job.hold.status == Hold.Status.RELEASED


def test_time_limit_comes_from_the_route(site, runcomfy_sim, make_job, sync_tasks, engine_settings):
    engine_settings.JOBS_TIME_LIMIT_MIN_SECONDS = 60
    engine_settings.JOBS_TIME_LIMIT_FACTOR = 10
    job = make_job()
    submit_job(job.pk)
    job.refresh_from_db()
    assert abs((job.deadline_at - job.started_at).total_seconds() - 3000) < 1  # 10 x 300 s


def test_two_trackers_never_claim_the_same_job(make_job, owner, engine_settings, db):
    jobs = [make_job() for _ in range(6)]
    Job.objects.filter(pk__in=[j.pk for j in jobs]).update(
        status=Status.PROVIDER_QUEUED, provider_request_id="r", next_poll_at=timezone.now()
    )
    first = claim_due_jobs("runcomfy", 4, Lease("tracker-a"))
    second = claim_due_jobs("runcomfy", 4, Lease("tracker-b"))
    assert len(first) == 4 and len(second) == 2
    assert not {job_id for job_id, _ in first} & {job_id for job_id, _ in second}
    assert claim_due_jobs("runcomfy", 4, Lease("tracker-c")) == []


def test_call_budget_is_shared_and_refills(db, engine_settings):
    assert take_calls("runcomfy:default", 100, per_minute=600) == 10  # a one-second burst
    assert take_calls("runcomfy:default", 100, per_minute=600) == 0
    assert policy.poll_interval(0) == 0.0  # tests poll as fast as they tick


def test_poll_interval_backs_off_with_age(settings):
    settings.JOBS_POLL_MIN_SECONDS = 2.0
    settings.JOBS_POLL_MAX_SECONDS = 30.0
    assert policy.poll_interval(0) == 2.0
    assert policy.poll_interval(60) == 8.0
    assert policy.poll_interval(3600) == 30.0
    assert policy.poll_interval(0, fair_share=100.0) == 100.0  # many jobs on one account


def test_trackers_share_one_call_budget_through_the_database(site, runcomfy_sim, make_job, sync_tasks, engine_settings):
    engine_settings.PROVIDER_CALLS_PER_MINUTE = 60  # a burst of 1, then just under 1 a second
    engine_settings.JOBS_MAX_RUNNING_PER_USER = 5
    runcomfy_sim.inject("never_finishes", count=5)
    jobs = [make_job() for _ in range(5)]
    for job in jobs:
        submit_job(job.pk)
    before = len(runcomfy_sim.calls_to("status"))
    # One clock for both trackers, stepped 50 ms a tick through 3 s: deterministic on a busy machine.
    now = [timezone.now()]
    first = Tracker(concurrency=1, sweep_every=1e9, clock=lambda: now[0])
    second = Tracker(concurrency=1, sweep_every=1e9, clock=lambda: now[0])
    for _ in range(60):
        first.tick()
        second.tick()
        now[0] += timedelta(seconds=0.05)
    polls = len(runcomfy_sim.calls_to("status")) - before
    assert polls == 3, polls  # a burst of 1, then one each 60/59 s: the two trackers together, not each
    for job in jobs:
        end(job, "test over")


def test_job_runs_through_the_nemovideo_simulator(site, nemo_sim, make_job, owner, sync_tasks, drive):
    job = make_job(route_id="nemovideo-lipsync")
    submit_job(job.pk)
    drive(lambda: refreshed(job).is_terminal, fast_forward=True)
    assert job.status == Status.SUCCEEDED, list(job.events.values_list("message", flat=True))
    assert job.hold.status == Hold.Status.CAPTURED and job.output.kind == "video"
    assert CreditAccount.objects.get(workspace=workspace_of(owner)).balance == 1000 - job.charged_credits
