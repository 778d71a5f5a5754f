"""django-q2 tasks: take an id, call a service. Every task is safe to run twice."""

from lipsync_site.jobs.services import lifecycle


def submit_job(job_id: str) -> None:
    lifecycle.submit_job(job_id)


def poll_job(job_id: str) -> None:
    lifecycle.poll_job(job_id)


def collect_job(job_id: str) -> None:
    lifecycle.collect_job(job_id)


def cancel_at_provider(job_id: str) -> None:
    lifecycle.cancel_at_provider(job_id)


def sweep() -> None:
    """For deployments that schedule the sweep in django-q2 as well (once a minute)."""
    from lipsync_site.jobs.sweep import sweep as run_sweep

    run_sweep()


def notify_owner(job_id: str) -> None:
    from lipsync_site.jobs.notifications import notify_owner as notify

    notify(job_id)
