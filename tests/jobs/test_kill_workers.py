"""Real worker processes killed with SIGKILL at each step of a job.

``manage.py qcluster`` and ``manage.py track_jobs`` run as subprocesses against the test
database (a file on SQLite, the test database on PostgreSQL), the RunComfy simulator and
our live site. At one step a process group is killed outright, then started again. Every
job must end in a clean terminal state, the simulator must have seen exactly one submit
per job, and the ledger must check clean.
"""

from __future__ import annotations

import os
import time
import uuid
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from lipsync_site.credits.models import Hold
from lipsync_site.jobs.models import Job, Status
from tests.processes import Workers, database_env

pytestmark = pytest.mark.django_db(transaction=True)

REDIS_FOR_TESTS = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/5")


def redis_reachable() -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(REDIS_FOR_TESTS, socket_connect_timeout=0.5).ping())
    except redis.RedisError:
        return False


@pytest.fixture(params=["orm", "redis"])
def broker(request):
    """The ORM broker redelivers a killed worker's task after Q_RETRY; the Redis broker
    loses it. Either way the sweep must finish the job."""
    if request.param == "redis" and not redis_reachable():
        pytest.skip(f"no Redis at {REDIS_FOR_TESTS} (set TEST_REDIS_URL)")
    return "" if request.param == "orm" else REDIS_FOR_TESTS


@pytest.fixture
def workers(site, runcomfy_sim, settings, tmp_path, broker):
    logdir = tmp_path / "logs"
    logdir.mkdir()
    env = {
        **os.environ,
        **database_env(),
        "DJANGO_SETTINGS_MODULE": "lipsync_site.settings",
        "REDIS_URL": broker,
        "Q_SITE_NAME": f"killtest-{uuid.uuid4().hex[:8]}",  # a queue of its own on a shared Redis
        "LIPSYNC_VAR_DIR": str(settings.VAR_DIR),
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "PUBLIC_BASE_URL": settings.PUBLIC_BASE_URL,
        "RUNCOMFY_API_KEY": "",
        "RUNCOMFY_SIMULATOR_URL": runcomfy_sim.base_url,
        "PROVIDER_HTTP_TIMEOUT_SECONDS": "2",
        "PROVIDER_EXTRA_DOWNLOAD_HOSTS": "127.0.0.1,localhost",
        "CONSENT_REVIEW_POLICY": "after",
        "Q_WORKERS": "2",
        "Q_TIMEOUT": "30",
        "Q_RETRY": "40",
        "JOBS_LEASE_SECONDS": "3",
        "JOBS_REQUEUE_AFTER_SECONDS": "2",
        "JOBS_POLL_MIN_SECONDS": "0.2",
        "JOBS_POLL_MAX_SECONDS": "0.5",
        "LOG_LEVEL": "INFO",
    }
    running = Workers(env, logdir)
    yield running
    running.stop_all()


def wait_for(predicate, workers, *, timeout=60.0, what="") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}\n{workers.logs()}")
        time.sleep(0.05)


def all_terminal() -> bool:
    return not Job.objects.exclude(status__in=[Status.SUCCEEDED, Status.FAILED, Status.CANCELLED]).exists()


@pytest.mark.parametrize("step", ["mid_submit", "after_submit", "mid_poll", "mid_download"])
def test_workers_killed_at_each_step_lose_no_job_and_never_submit_twice(workers, runcomfy_sim, make_job, step):
    jobs = [make_job() for _ in range(2)]
    # Old enough that the tracker's sweep enqueues them at once (no task was ever queued).
    Job.objects.update(created_at=timezone.now() - timedelta(seconds=30))
    slow = {"mid_submit": "submit", "mid_poll": "status", "mid_download": "download"}.get(step)
    if slow:
        runcomfy_sim.inject("slow", count=1, endpoint=slow, seconds=1.5)

    workers.start_cluster()
    workers.start_tracker()
    if step == "after_submit":
        accepted = Job.objects.exclude(provider_request_id="")
        wait_for(lambda: accepted.count() == len(jobs), workers, what="every request id")
        workers.kill("qcluster")
        workers.kill("tracker")
        workers.start_cluster()
        workers.start_tracker()
    else:
        wait_for(lambda: runcomfy_sim.calls_to(slow), workers, what=f"a {slow} call")
        victim = "tracker" if step == "mid_poll" else "qcluster"
        workers.kill(victim)
        workers.start_tracker() if victim == "tracker" else workers.start_cluster()

    wait_for(all_terminal, workers, what="every job to finish")
    workers.stop_all()

    outcomes = [Job.objects.get(pk=job.pk) for job in jobs]
    failed = [job for job in outcomes if job.status != Status.SUCCEEDED]
    if step == "mid_submit":
        # Killed while a submission was on the wire: its fate is unknown, so it fails
        # visibly and is released rather than sent again. (The other worker may have been
        # sending the other job at that moment too.)
        assert failed, workers.logs()
    else:
        assert not failed, [(job.status, job.error_message) for job in failed] + [workers.logs()]
    for job in failed:
        assert job.status == Status.FAILED and "could not confirm" in job.error_message
        assert job.hold.status == Hold.Status.RELEASED
    succeeded = [job for job in outcomes if job.status == Status.SUCCEEDED]
    for job in succeeded:
        assert job.hold.status == Hold.Status.CAPTURED and job.output is not None
        assert job.provider_request_id in runcomfy_sim.runs
    # Never two submits for one job: one call per job at most, and each success its own run.
    assert len(runcomfy_sim.calls_to("submit")) <= len(jobs)
    assert len({job.provider_request_id for job in succeeded}) == len(succeeded)
    assert all(job.submit_attempts == 1 for job in outcomes)
    if step == "mid_download":
        assert len(runcomfy_sim.calls_to("download")) > len(jobs)  # the killed download ran again
    call_command("check_ledger")
