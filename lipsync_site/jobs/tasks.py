"""django-q2 tasks: take an id, call a service. Every task is safe to run twice."""

from lipsync_site.jobs import services


def submit_job(job_id: str) -> None:
    services.submit_job(job_id)


def poll_job(job_id: str) -> None:
    services.poll_job(job_id)


def collect_job(job_id: str) -> None:
    services.collect_job(job_id)


def cancel_at_provider(job_id: str) -> None:
    services.cancel_at_provider(job_id)
