"""The workflow's numbers and words: which states count as running, how often to poll, how
many attempts a step gets, how long a route may take, and what the owner is told."""

from __future__ import annotations

import enum

from django.conf import settings

from lipsync_site.jobs.models import Status
from lipsync_site.providers.catalog import Route

# States that count against the running limit. Collecting is our own download and does
# not occupy the provider.
RUNNING_STATES = (Status.SUBMITTING, Status.PROVIDER_QUEUED, Status.RUNNING)
# States the tracker asks the provider about.
POLLED_STATES = (Status.PROVIDER_QUEUED, Status.RUNNING)
# States an owner may still cancel from (the provider may refuse once it runs).
CANCELLABLE_STATES = (Status.AWAITING_REVIEW, Status.QUEUED, Status.PROVIDER_QUEUED)

# A submission that provably never reached the provider is tried again, up to this many times.
MAX_SUBMIT_ATTEMPTS = 3
MAX_COLLECT_ATTEMPTS = 5


def time_limit_seconds(route: Route) -> float:
    """How long a job on ``route`` may take from its submission before it is stopped."""
    limit = route.limits.get("max_run_seconds") if route.limits else None
    if limit:
        return float(limit)
    return max(settings.JOBS_TIME_LIMIT_MIN_SECONDS, settings.JOBS_TIME_LIMIT_FACTOR * route.max_duration_seconds)


def poll_interval(age_seconds: float, *, fair_share: float = 0.0) -> float:
    """Seconds until the next poll: 2 s for a young job, growing by a tenth of its age up
    to 30 s; never shorter than the account's fair share of its call budget."""
    low, high = settings.JOBS_POLL_MIN_SECONDS, settings.JOBS_POLL_MAX_SECONDS
    return max(min(high, low + age_seconds / 10.0), fair_share)


def account_problem_backoff() -> float:
    """An account problem (bad token, empty balance) is not this job's fault: wait long."""
    return settings.JOBS_POLL_MAX_SECONDS * 4


class Say:
    """What the owner reads (job page, e-mail). Never a provider's raw text with secrets."""

    GENERIC_FAILURE = "Something went wrong on our side while processing this job. Your credits were returned."
    UNKNOWN_SUBMISSION = (
        "We could not confirm that the provider received this job, so we stopped rather than risk paying "
        "twice. Your credits were returned; our team will check with the provider."
    )
    ACCOUNT_PROBLEM = "The provider could not take this job; our team has been alerted."
    PROVIDER_LOST_REQUEST = "The provider no longer knows this request."
    PROVIDER_FAILED = "The provider could not produce this video."
    NO_VIDEO = "The provider finished but returned no video."
    NOT_COLLECTED = "We could not download the provider's output. Your credits were returned."
    TIME_LIMIT = "This job took longer than its route allows, so we stopped it. Your credits were returned."
    ENGINE_LOST = "The draft engine stopped while rendering this job. Your credits were returned."
    CANCELLED_BY_OWNER = "Cancelled by its owner."
    CANCELLED_AT_PROVIDER = "Cancelled at the provider."

    @staticmethod
    def busy(detail: str) -> str:
        return f"The provider is busy or unreachable ({detail}). Please try again later."

    @staticmethod
    def unplayable(detail: str) -> str:
        return f"The provider's output was not a playable video: {detail}"

    @staticmethod
    def consent_rejected(reason: str) -> str:
        return f"Consent rejected by a moderator: {reason}"


class CancelOutcome(enum.StrEnum):
    CANCELLED = "cancelled"
    RUNNING = "running"  # the provider is already working on it and cannot stop
    BUSY = "busy"  # being handed over or collected right now: nothing to stop
    FINISHED = "finished"  # already in a final state
    UNREACHABLE = "unreachable"  # the provider did not answer the cancel

    @property
    def message(self) -> str:
        return {
            CancelOutcome.CANCELLED: "Job cancelled; its credits were returned.",
            CancelOutcome.RUNNING: "The provider is already rendering this job and cannot stop it now.",
            CancelOutcome.BUSY: "This job is being handed to the provider or collected right now; try again shortly.",
            CancelOutcome.FINISHED: "This job has already finished.",
            CancelOutcome.UNREACHABLE: "The provider did not answer the cancel request; try again shortly.",
        }[self]
