"""The workflow's numbers and words: which states count as running, how often to poll, how
many attempts a step gets, how long a route may take, and what the owner is told."""

from __future__ import annotations

import enum

from django.conf import settings
from django.utils.translation import gettext, gettext_noop

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
# Collect attempts that ended without an answer (a worker killed mid-download); a
# transient answer (429, 5xx, timeout) is retried within the collection window instead.
MAX_COLLECT_ATTEMPTS = 5
# Seconds a collect task may wait in its worker for a transient answer to pass before it
# gives the job back to the sweep.
COLLECT_WAIT_IN_WORKER = 60.0


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


def calls_per_minute(provider_name: str) -> int:
    """The polling budget of a provider account: the site's, or the provider's documented
    limit when lower (Sync: 60 calls a minute across all its endpoints)."""
    from lipsync_site.providers.registry import get_provider

    documented = getattr(get_provider(provider_name), "calls_per_minute", None)
    configured = settings.PROVIDER_CALLS_PER_MINUTE
    return min(configured, documented) if documented else configured


def account_problem_backoff() -> float:
    """An account problem (bad token, empty balance) is not this job's fault: wait long."""
    return settings.JOBS_POLL_MAX_SECONDS * 4


class Say:
    """What the owner reads (job page, e-mail). Never a provider's raw text with secrets."""

    GENERIC_FAILURE = gettext_noop(
        "Something went wrong on our side while processing this job. Your credits were returned."
    )
    UNKNOWN_SUBMISSION = gettext_noop(
        "We could not confirm that the provider received this job, so we stopped rather than risk paying "
        "twice. Your credits were returned; our team will check with the provider."
    )
    ACCOUNT_PROBLEM = gettext_noop("The provider could not take this job; our team has been alerted.")
    PROVIDER_LOST_REQUEST = gettext_noop("The provider no longer knows this request.")
    PROVIDER_FAILED = gettext_noop("The provider could not produce this video.")
    NO_VIDEO = gettext_noop("The provider finished but returned no video.")
    NOT_COLLECTED = gettext_noop("We could not download the provider's output. Your credits were returned.")
    TIME_LIMIT = gettext_noop(
        "This job took longer than its route allows, so we stopped it. Your credits were returned."
    )
    ENGINE_LOST = gettext_noop("The draft engine stopped while rendering this job. Your credits were returned.")
    CANCELLED_BY_OWNER = gettext_noop("Cancelled by its owner.")
    CANCELLED_AT_PROVIDER = gettext_noop("Cancelled at the provider.")

    # Messages with a detail: stored in English, read back in the reader's language
    # (``in_reader_language``) by matching their fixed start.
    BUSY = gettext_noop("The provider is busy or unreachable (%(detail)s). Please try again later.")
    UNPLAYABLE = gettext_noop("The provider's output was not a playable video: %(detail)s")
    CONSENT_REJECTED = gettext_noop("Consent rejected by a moderator: %(detail)s")

    @staticmethod
    def busy(detail: str) -> str:
        return Say.BUSY % {"detail": detail}

    @staticmethod
    def unplayable(detail: str) -> str:
        return Say.UNPLAYABLE % {"detail": detail}

    @staticmethod
    def consent_rejected(reason: str) -> str:
        return Say.CONSENT_REJECTED % {"detail": reason}


def in_reader_language(message: str) -> str:
    """A stored owner-facing message (written in English by a worker) in the active language:
    the fixed sentences of ``Say`` and the cancel outcomes translate whole; the ones with a
    detail translate around it. Anything else (a provider's own words) stays as written."""
    translated = gettext(message)
    if translated != message:
        return translated
    for template in (Say.BUSY, Say.UNPLAYABLE, Say.CONSENT_REJECTED):
        head, _, tail = template.partition("%(detail)s")
        if message.startswith(head) and message.endswith(tail) and len(message) >= len(head) + len(tail):
            detail = message[len(head) : len(message) - len(tail) if tail else None]
            return gettext(template) % {"detail": detail}
    return message


class CancelOutcome(enum.StrEnum):
    CANCELLED = "cancelled"
    RUNNING = "running"  # the provider is already working on it and cannot stop
    BUSY = "busy"  # being handed over or collected right now: nothing to stop
    FINISHED = "finished"  # already in a final state
    UNREACHABLE = "unreachable"  # the provider did not answer the cancel

    @property
    def message(self) -> str:
        return {
            CancelOutcome.CANCELLED: gettext_noop("Job cancelled; its credits were returned."),
            CancelOutcome.RUNNING: gettext_noop("The provider is already rendering this job and cannot stop it now."),
            CancelOutcome.BUSY: gettext_noop(
                "This job is being handed to the provider or collected right now; try again shortly."
            ),
            CancelOutcome.FINISHED: gettext_noop("This job has already finished."),
            CancelOutcome.UNREACHABLE: gettext_noop(
                "The provider did not answer the cancel request; try again shortly."
            ),
        }[self]
