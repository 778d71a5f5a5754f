"""Request counts and durations for /metrics, by view (the URL's name, so the label set
stays small: never the path, which carries signed tokens) and status.

Under gunicorn, ``PROMETHEUS_MULTIPROC_DIR`` (gunicorn.conf.py) makes prometheus_client keep
each worker's values in files that /metrics adds up, whichever worker answers the scrape.
"""

from __future__ import annotations

import time

from prometheus_client import Counter, Histogram

RESPONSES = Counter(
    "lipsync_http_responses", "HTTP responses by view, method and status.", ["view", "method", "status"]
)
DURATION = Histogram(
    "lipsync_http_request_duration_seconds",
    "Time from the request reaching Django to the response leaving it, by view.",
    ["view"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)


class RequestMetricsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        view = (match.view_name if match else "") or "unresolved"
        DURATION.labels(view).observe(time.perf_counter() - started)
        RESPONSES.labels(
            view, request.method if request.method in KNOWN_METHODS else "other", response.status_code
        ).inc()
        return response


KNOWN_METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}
