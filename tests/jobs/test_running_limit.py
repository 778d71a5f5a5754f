"""Per-user limit on jobs running at once: the rest wait, and start in the order made."""

import pytest

from lipsync_site.jobs.models import Job, Status
from lipsync_site.jobs.workflow import policy
from lipsync_site.jobs.workflow.submit import submit_job

pytestmark = pytest.mark.django_db(transaction=True)


def test_jobs_beyond_the_limit_wait_and_start_in_order(site, runcomfy_sim, make_job, sync_tasks, drive, settings):
    settings.JOBS_MAX_RUNNING_PER_USER = 2
    jobs = [make_job() for _ in range(5)]
    for job in reversed(jobs):  # deliveries in any order: the oldest still go first
        submit_job(job.pk)
    statuses = dict(Job.objects.values_list("id", "status"))
    assert [statuses[job.pk] for job in jobs] == ["provider_queued"] * 2 + ["queued"] * 3

    peak = 0

    def done():
        nonlocal peak
        peak = max(peak, Job.objects.filter(status__in=policy.RUNNING_STATES).count())
        return all(job.is_terminal for job in Job.objects.all())

    drive(done, timeout=40)
    assert peak <= 2
    finished = list(Job.objects.order_by("started_at").values_list("id", "status"))
    started = [job_id for job_id, _ in finished]
    assert set(started[:2]) == {jobs[0].pk, jobs[1].pk}  # both fit at once, either may go first
    assert started[2:] == [job.pk for job in jobs[2:]]  # then strictly in the order made
    assert {status for _, status in finished} == {Status.SUCCEEDED}
    assert runcomfy_sim.submit_count == 5
