"""The tracker: polls jobs at the provider every few seconds (django-q2 schedules cannot
fire more than once a minute), and runs the sweep.

One tick:

1. for each provider with due jobs, take call tokens from the account's shared budget
   (``ProviderCallBudget``, a token bucket in the database, so any number of trackers
   together stay under ``PROVIDER_CALLS_PER_MINUTE``);
2. claim that many due jobs, oldest due first, with a lease (``select_for_update(
   skip_locked=True)`` on PostgreSQL so trackers never wait on each other; the claim
   itself is a guarded update, so it is exclusive on SQLite too);
3. poll them on a small thread pool; each poll schedules the job's next one (2 s when
   young, backing off to 30 s with age, ``Retry-After`` obeyed, never more often than the
   account's fair share of its budget) and gives the lease back. A tracker killed
   mid-poll leaves leases that expire and are claimed again.
"""

from __future__ import annotations

import contextlib
import logging
import math
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, close_old_connections, connection, connections, transaction
from django.db.models import Q
from django.utils import timezone

from lipsync_site.jobs.models import Job, ProviderCallBudget
from lipsync_site.jobs.sweep import sweep
from lipsync_site.jobs.workflow.leases import Lease, expiry, lease_free
from lipsync_site.jobs.workflow.policy import POLLED_STATES, calls_per_minute
from lipsync_site.jobs.workflow.poll import poll_job
from lipsync_site.providers.registry import get_provider

logger = logging.getLogger(__name__)

# When a tracker last ticked (unix time), in the cache every process shares.
LAST_TICK_KEY = "jobs:tracker:last_tick"
TICK_RECORD_EVERY = 5.0


def last_tick_age() -> float | None:
    """Seconds since any tracker last ticked; None when none ever has."""
    last = cache.get(LAST_TICK_KEY)
    return None if last is None else max(0.0, time.time() - float(last))


def _tidy_connections() -> None:
    """Drop broken or expired connections between polls (never inside a transaction)."""
    if not connection.in_atomic_block:
        close_old_connections()


# --- the shared call budget -----------------------------------------------------------------
def budget_key(provider_name: str) -> str:
    """One budget per provider account (adapters may name their account)."""
    try:
        account = getattr(get_provider(provider_name), "account_key", "") or "default"
    except LookupError:
        account = "default"
    return f"{provider_name}:{account}"[:100]


def _bucket_shape(per_minute: int) -> tuple[float, float]:
    """(capacity, refill per second) such that no 60 s window exceeds ``per_minute``:
    a burst of one second's worth plus a refill of the rest over the minute."""
    capacity = max(1.0, per_minute / 60.0)
    refill = max(per_minute - capacity, per_minute / 2.0) / 60.0
    return capacity, refill


def take_calls(key: str, wanted: int, *, per_minute: int | None = None, now=None) -> int:
    """Take up to ``wanted`` calls from the account's budget; return how many were granted."""
    if wanted <= 0:
        return 0
    per_minute = per_minute or settings.PROVIDER_CALLS_PER_MINUTE
    capacity, refill = _bucket_shape(per_minute)
    for _ in range(3):
        try:
            with transaction.atomic():
                now = now or timezone.now()
                bucket = ProviderCallBudget.objects.select_for_update().filter(key=key).first()
                if bucket is None:
                    bucket = ProviderCallBudget.objects.create(key=key, tokens=capacity, updated_at=now)
                elapsed = max(0.0, (now - bucket.updated_at).total_seconds())
                tokens = min(capacity, bucket.tokens + elapsed * refill)
                granted = max(0, min(wanted, math.floor(tokens)))
                ProviderCallBudget.objects.filter(key=key).update(tokens=tokens - granted, updated_at=now)
                return granted
        except IntegrityError:  # two trackers created the bucket at once: read it again
            continue
    return 0


def give_back_calls(key: str, count: int, *, per_minute: int | None = None) -> None:
    if count <= 0:
        return
    capacity, _ = _bucket_shape(per_minute or settings.PROVIDER_CALLS_PER_MINUTE)
    with transaction.atomic():
        bucket = ProviderCallBudget.objects.select_for_update().filter(key=key).first()
        if bucket is not None:
            ProviderCallBudget.objects.filter(key=key).update(tokens=min(capacity, bucket.tokens + count))


# --- claiming ----------------------------------------------------------------------------------
def _due(now):
    return (
        Job.objects.filter(status__in=POLLED_STATES)
        .exclude(provider_request_id="")
        .filter(Q(next_poll_at__isnull=True) | Q(next_poll_at__lte=now))
        .filter(lease_free(now))
    )


def claim_due_jobs(provider_name: str, limit: int, lease: Lease, *, now=None) -> list[tuple[str, object]]:
    """Lease up to ``limit`` due jobs of one provider; return (job id, when it was due)."""
    if limit <= 0:
        return []
    now = now or timezone.now()
    with transaction.atomic():
        candidates = _due(now).filter(provider=provider_name).order_by("next_poll_at")
        if connection.features.has_select_for_update_skip_locked:
            candidates = candidates.select_for_update(skip_locked=True, of=("self",))
        due = dict(candidates.values_list("id", "next_poll_at")[:limit])
        if not due:
            return []
        # The guard repeats the conditions: exclusive even where row locks are ignored.
        _due(now).filter(id__in=list(due)).update(lease_owner=lease.token, lease_expires_at=expiry(now))
        won = Job.objects.filter(id__in=list(due), lease_owner=lease.token).values_list("id", flat=True)
        return [(job_id, due[job_id]) for job_id in won]


@dataclass
class TickReport:
    polled: int = 0
    lags: list[float] = field(default_factory=list)  # seconds between due and polled
    outcomes: dict[str, int] = field(default_factory=dict)
    swept: dict[str, int] = field(default_factory=dict)
    throttled: bool = False


class Tracker:
    """The polling loop of ``manage.py track_jobs``. Several may run at once."""

    def __init__(
        self, *, batch: int = 100, concurrency: int = 8, sweep_every: float = 5.0, name: str = "", clock=timezone.now
    ):
        self.batch = batch
        self.concurrency = concurrency
        self.sweep_every = sweep_every
        self.name = name or Lease().token
        # What "now" is when choosing due jobs and spending the call budget (tests inject
        # one to step through time deterministically).
        self.clock = clock
        self._last_sweep = 0.0
        # One poll at a time runs inline (tests, small sites); more run on a thread pool.
        self._pool = (
            ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="tracker-poll") if concurrency > 1 else None
        )
        self._stopping = threading.Event()
        self._tick_recorded = 0.0

    def stop(self) -> None:
        self._stopping.set()

    def close(self) -> None:
        # Each pool thread holds its own database connections: close them in every thread
        # (the barrier makes each thread take exactly one of these tasks).
        if self._pool is None:
            return
        barrier = threading.Barrier(self.concurrency)

        def close_here():
            connections.close_all()
            with contextlib.suppress(threading.BrokenBarrierError):
                barrier.wait(timeout=5)

        for _ in range(self.concurrency):
            self._pool.submit(close_here)
        self._pool.shutdown(wait=True)

    def _poll_one(self, job_id, due_at, lease: Lease, fair_share: float) -> tuple[str, float]:
        lag = max(0.0, (self.clock() - due_at).total_seconds()) if due_at else 0.0
        try:
            outcome = poll_job(job_id, lease=lease, fair_share=fair_share)
        except Exception:
            logger.exception("Polling job %s failed", job_id)
            # Leave the lease to expire: the job is polled again after JOBS_LEASE_SECONDS.
            outcome = "error"
        finally:
            _tidy_connections()
        return str(outcome), lag

    def _fair_share(self, provider_name: str, per_minute: int) -> float:
        """Seconds between polls of one job so that all of the account's jobs fit in its budget."""
        active = Job.objects.filter(status__in=POLLED_STATES, provider=provider_name).count()
        # 20% slack: at full use of the budget the due jobs would queue up and lag.
        return active / (per_minute / 60.0) * 1.2 if per_minute else 0.0

    def tick(self) -> TickReport:
        report = TickReport()
        now_monotonic = time.monotonic()
        if now_monotonic - self._last_sweep >= self.sweep_every:
            self._last_sweep = now_monotonic
            try:
                report.swept = sweep()
            except Exception:
                logger.exception("The sweep failed")
        now = self.clock()
        # order_by(): the model's default ordering would otherwise leak into DISTINCT.
        providers = list(_due(now).order_by().values_list("provider", flat=True).distinct())
        work = []
        for provider_name in providers:
            per_minute = calls_per_minute(provider_name)
            key = budget_key(provider_name)
            granted = take_calls(key, self.batch, per_minute=per_minute, now=now)
            if granted < self.batch:
                report.throttled = True
            lease = Lease()
            claimed = claim_due_jobs(provider_name, granted, lease, now=now)
            give_back_calls(key, granted - len(claimed), per_minute=per_minute)
            fair_share = self._fair_share(provider_name, per_minute)
            work += [(job_id, due_at, lease, fair_share) for job_id, due_at in claimed]
        if self._pool is None:
            results = [self._poll_one(*item) for item in work]
        else:
            results = [future.result() for future in [self._pool.submit(self._poll_one, *item) for item in work]]
        for outcome, lag in results:
            report.polled += 1
            report.lags.append(lag)
            report.outcomes[outcome] = report.outcomes.get(outcome, 0) + 1
        self._record_tick()
        return report

    def _record_tick(self) -> None:
        """Say in the shared cache that a tracker is alive (the health check reads it);
        at most every few seconds per tracker, so a busy loop does not write on each tick."""
        now = time.time()
        if now - self._tick_recorded < TICK_RECORD_EVERY:
            return
        try:
            cache.set(LAST_TICK_KEY, now, timeout=None)
            self._tick_recorded = now
        except Exception:  # a cache outage must not stop polling; /health/ shows it anyway
            logger.warning("Could not record the tracker's tick", exc_info=True)

    def seconds_until_due(self) -> float:
        """How long the loop may sleep: until the next job is due (at most a second)."""
        now = self.clock()
        next_due = (
            Job.objects.filter(status__in=POLLED_STATES)
            .exclude(provider_request_id="")
            .filter(next_poll_at__gt=now)
            .order_by("next_poll_at")
            .values_list("next_poll_at", flat=True)
            .first()
        )
        if next_due is None:
            return 1.0
        return min(1.0, max(0.05, (next_due - now).total_seconds()))

    def run(self, *, until: float | None = None, on_tick=None) -> None:
        """Loop until ``stop()`` (or the monotonic time ``until``)."""
        try:
            while not self._stopping.is_set() and (until is None or time.monotonic() < until):
                try:
                    report = self.tick()
                except Exception:
                    logger.exception("Tracker tick failed")
                    _tidy_connections()
                    self._stopping.wait(1.0)
                    continue
                if on_tick is not None:
                    on_tick(report)
                if report.polled == 0 or report.throttled:
                    self._stopping.wait(self.seconds_until_due() if not report.throttled else 0.2)
                _tidy_connections()
        finally:
            self.close()
            connections.close_all()


def summarise_lags(lags: list[float]) -> dict[str, float]:
    if not lags:
        return {"median": 0.0, "p95": 0.0}
    ordered = sorted(lags)
    return {"median": statistics.median(ordered), "p95": ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]}
