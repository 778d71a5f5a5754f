"""``/health/``: django-health-check's view with the checks this site depends on.

Database, shared cache and media storage are the library's checks; the broker and the
tracker's heartbeat are ours. Any red check makes the answer a 500 (``?format=json`` for
a machine, HTML for a person), so a load balancer or an uptime probe can act on it.
"""

from __future__ import annotations

import dataclasses
import datetime
from concurrent.futures import ThreadPoolExecutor

from django.conf import settings
from django.db import connections
from health_check.base import HealthCheck
from health_check.exceptions import ServiceUnavailable
from health_check.views import HealthCheckView

from lipsync_site.view_access import public_view


@dataclasses.dataclass
class Broker(HealthCheck):
    """django-q2's broker (Redis, or the database's queue table) answers."""

    timeout = datetime.timedelta(seconds=5)

    def run(self) -> None:
        from django_q.brokers import get_broker

        try:
            alive = get_broker().ping()
        except Exception as exc:
            raise ServiceUnavailable("The task broker does not answer.") from exc
        if not alive:
            raise ServiceUnavailable("The task broker does not answer.")


@dataclasses.dataclass
class TrackerTick(HealthCheck):
    """Some tracker (``manage.py track_jobs``) ticked within ``TRACKER_STALE_SECONDS``:
    without one no job is ever polled."""

    def run(self) -> None:
        from lipsync_site.jobs.tracker import last_tick_age

        age = last_tick_age()
        limit = settings.TRACKER_STALE_SECONDS
        if age is None:
            raise ServiceUnavailable("No tracker has ticked yet.")
        if age > limit:
            raise ServiceUnavailable(f"The tracker last ticked {age:.0f} s ago (more than {limit:.0f} s).")


class _ClosingExecutor(ThreadPoolExecutor):
    """Runs the synchronous checks on threads that close their database connections after
    each check: a probe every few seconds must not leave a connection behind per thread."""

    def submit(self, fn, /, *args, **kwargs):
        def run_and_close():
            try:
                return fn(*args, **kwargs)
            finally:
                connections.close_all()

        return super().submit(run_and_close)


class HealthView(HealthCheckView):
    def get_executor(self):
        return _ClosingExecutor(max_workers=4, thread_name_prefix="health")

    checks = (
        "health_check.checks.Database",
        "health_check.checks.Cache",
        "health_check.checks.Storage",
        Broker,
        TrackerTick,
    )


health = public_view("a health probe: says which services answer, nothing about users or media")(HealthView.as_view())
