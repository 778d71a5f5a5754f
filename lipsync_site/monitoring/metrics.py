"""``/metrics``: Prometheus text for the web processes and for the product.

- Responses and their durations by view come from ``RequestMetricsMiddleware``. Under
  gunicorn every worker writes them to ``PROMETHEUS_MULTIPROC_DIR`` (gunicorn.conf.py sets
  it up) and any worker answers for all of them.
- The product's own figures are read from the database and the broker at scrape time,
  never from process memory, so every web process on every machine reports the same
  numbers: jobs by state and route, queue depth, poll lag, the share of each provider
  account's call budget in use, bytes collected, output check scores, and the age of the
  tracker's last tick.
"""

from __future__ import annotations

import os

from django.conf import settings
from django.db.models import Count, Max, Sum
from django.http import HttpResponse
from django.utils import timezone
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector

from lipsync_site.view_access import public_view

SCORE_BUCKETS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)


class ProductCollector:
    """The site's figures, computed from shared state on each scrape."""

    def collect(self):
        from lipsync_site.jobs.models import Job, ProviderCallBudget
        from lipsync_site.jobs.tracker import _bucket_shape, last_tick_age
        from lipsync_site.jobs.workflow.policy import POLLED_STATES, calls_per_minute

        jobs = GaugeMetricFamily("lipsync_jobs", "Jobs by state and route.", labels=["state", "route"])
        for row in Job.objects.order_by().values("status", "route_id").annotate(count=Count("id")):
            jobs.add_metric([row["status"], row["route_id"]], row["count"])
        yield jobs

        queue = GaugeMetricFamily("lipsync_queue_depth", "Tasks waiting on the broker.", labels=["cluster"])
        for cluster in task_clusters():
            queue.add_metric([cluster], _queue_size(cluster))
        yield queue

        now = timezone.now()
        oldest_due = (
            Job.objects.filter(status__in=POLLED_STATES, next_poll_at__lte=now)
            .exclude(provider_request_id="")
            .order_by("next_poll_at")
            .values_list("next_poll_at", flat=True)
            .first()
        )
        yield GaugeMetricFamily(
            "lipsync_poll_lag_seconds",
            "How long the most overdue poll has been waiting (0 when none is due).",
            value=(now - oldest_due).total_seconds() if oldest_due else 0.0,
        )

        budget = GaugeMetricFamily(
            "lipsync_provider_call_budget_used_ratio",
            "Share of each provider account's polling budget in use (1 = none left this minute).",
            labels=["account"],
        )
        for bucket in ProviderCallBudget.objects.all():
            provider = bucket.key.split(":", 1)[0]
            try:
                capacity, refill = _bucket_shape(calls_per_minute(provider))
            except LookupError:
                continue
            elapsed = max(0.0, (now - bucket.updated_at).total_seconds())
            tokens = min(capacity, bucket.tokens + elapsed * refill)
            budget.add_metric([bucket.key], round(1.0 - tokens / capacity, 4))
        yield budget

        collected = Job.objects.filter(output__isnull=False).aggregate(total=Sum("output__size_bytes"))["total"]
        yield _counter("lipsync_collected_bytes", "Bytes of outputs collected and stored.", collected or 0)

        scores = list(
            Job.objects.filter(lipsync_score__isnull=False).order_by().values_list("lipsync_score", flat=True)
        )
        buckets = [[str(bound), sum(1 for score in scores if score <= bound)] for bound in SCORE_BUCKETS]
        buckets.append(["+Inf", len(scores)])
        yield HistogramMetricFamily(
            "lipsync_check_score",
            "Output check scores (0-1: how well the mouth follows the voice).",
            buckets=buckets,
            sum_value=float(sum(scores)),
        )

        age = last_tick_age()
        yield GaugeMetricFamily(
            "lipsync_tracker_last_tick_age_seconds",
            "Seconds since a tracker last ticked (-1: never).",
            value=-1.0 if age is None else age,
        )
        latest = Job.objects.aggregate(latest=Max("created_at"))["latest"]
        yield GaugeMetricFamily(
            "lipsync_last_job_created_timestamp_seconds",
            "When the newest job was made (unix time; 0 when there is none).",
            value=latest.timestamp() if latest else 0.0,
        )


def _counter(name: str, documentation: str, value: float):
    from prometheus_client.core import CounterMetricFamily

    return CounterMetricFamily(name, documentation, value=value)


def task_clusters() -> list[str]:
    """The django-q2 queues: the main cluster's and each alternative cluster's."""
    main = settings.Q_CLUSTER.get("cluster_name", settings.Q_CLUSTER["name"])
    return [main, *settings.Q_CLUSTER.get("ALT_CLUSTERS", {})]


def _queue_size(cluster: str) -> int:
    from django_q.brokers import get_broker

    try:
        return int(get_broker(cluster).queue_size() or 0)
    except Exception:
        return -1


def _process_registry():
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
        return registry
    return REGISTRY


_product_registry = CollectorRegistry(auto_describe=False)
_product_registry.register(ProductCollector())


@public_view("metrics for the scraper; deploy/nginx.conf lets only the local network reach it")
@require_GET
def metrics(request):
    body = generate_latest(_process_registry()) + generate_latest(_product_registry)
    return HttpResponse(body, content_type=CONTENT_TYPE_LATEST)
