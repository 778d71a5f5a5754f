"""Workflows of the lip-sync job: ``creation`` (form to queued job) and ``lifecycle``
(queued job to settled outcome). Each state change is one transaction."""

from lipsync_site.jobs.services.creation import (
    Consent,
    JobInputs,
    create_job,
    create_jobs_batch,
    enqueue_submit,
    estimate_seconds,
)
from lipsync_site.jobs.services.lifecycle import (
    cancel_at_provider,
    cancel_job,
    collect_job,
    fail_job,
    poll_job,
    release_for_review,
    stop_for_rejection,
    submit_job,
)

__all__ = [
    "Consent",
    "JobInputs",
    "cancel_at_provider",
    "cancel_job",
    "collect_job",
    "create_job",
    "create_jobs_batch",
    "enqueue_submit",
    "estimate_seconds",
    "fail_job",
    "poll_job",
    "release_for_review",
    "stop_for_rejection",
    "submit_job",
]
