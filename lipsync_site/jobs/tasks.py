"""django-q2 tasks: take an id, call the workflow. Every task is safe to run twice.

The names here are ``jobs.workflow.queue.Task``'s values; enqueue them only through
``enqueue_after_commit``.
"""

from lipsync_site.jobs.workflow import cancel, collect, poll, submit


def submit_job(job_id: str) -> None:
    submit.submit_job(job_id)


def poll_job(job_id: str) -> None:
    poll.poll_job(job_id)


def collect_job(job_id: str) -> None:
    collect.collect_job(job_id)


def cancel_at_provider(job_id: str) -> None:
    cancel.cancel_at_provider(job_id)


def sweep() -> None:
    """For deployments that schedule the sweep in django-q2 as well (once a minute)."""
    from lipsync_site.jobs.sweep import sweep as run_sweep

    run_sweep()


def notify_owner(job_id: str) -> None:
    from lipsync_site.jobs.notifications import notify_owner as notify

    notify(job_id)
