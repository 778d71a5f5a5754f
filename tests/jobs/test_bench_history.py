"""``make bench``: history at 10,000 jobs against a 20-job history, in the same run.

Prints the median server time (the request through Django's whole stack, in process) and
the number of queries for the first page, the last page (the oldest jobs, and a page
reached by cursor deep in the history) and a search, next to the first page of a 20-job
history. Goal: every one within 1.5x of the 20-job page, and the same number of queries.
Run it on PostgreSQL too (DATABASE_URL=postgres://...): the trigram index and the keyset
index are what keep it flat there.
"""

import statistics
import time

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from lipsync_site.jobs.models import Job
from lipsync_site.jobs.selectors import cursor_of
from tests import studio
from tests.conftest import _user

pytestmark = [pytest.mark.bench, pytest.mark.django_db]

ROUNDS = 25
GOAL = 1.5


def measure(client, params):
    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        response = client.get(reverse("jobs:list"), params)
        elapsed = time.perf_counter() - started
    assert response.status_code == 200
    return elapsed, len(queries)


def test_history_at_ten_thousand_jobs_is_as_fast_as_at_twenty():
    small = _user("small", credits=1000)
    large = _user("large", credits=1000)
    studio.bulk_history(small, 20)
    started = time.perf_counter()
    studio.bulk_history(large, 10_000)
    built = time.perf_counter() - started
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE jobs_job")
    deep = Job.objects.filter(owner=large).order_by("created_at", "id")[20]  # the page before the oldest
    cases = {
        "20 jobs, first page": (small, {}),
        "10,000 jobs, first page": (large, {}),
        "10,000 jobs, last page (oldest)": (large, {"oldest": "1"}),
        "10,000 jobs, page by cursor near the end": (large, {"before": cursor_of(deep)}),
        "20 jobs, search 'french' + succeeded": (small, {"q": "french", "state": "succeeded"}),
        "10,000 jobs, search 'french' + succeeded": (large, {"q": "french", "state": "succeeded"}),
    }
    clients = {}
    for user in (small, large):
        clients[user.pk] = Client()
        clients[user.pk].force_login(user)
    times = {name: [] for name in cases}
    queries = {name: set() for name in cases}
    for _ in range(3):  # warm up both clients and every plan
        for user, params in cases.values():
            measure(clients[user.pk], params)
    for _ in range(ROUNDS):  # interleaved, so a busy moment on the machine hits every case
        for name, (user, params) in cases.items():
            elapsed, count = measure(clients[user.pk], params)
            times[name].append(elapsed)
            queries[name].add(count)
    baseline = statistics.median(times["20 jobs, first page"])
    print(f"\nhistory benchmark on {connection.vendor}: 10,000 jobs built in {built:.1f} s; median of {ROUNDS}")
    worst = 0.0
    for name in cases:
        median = statistics.median(times[name])
        ratio = median / baseline
        worst = max(worst, ratio) if name.startswith("10,000") else worst
        print(f"  {name:<45} {median * 1000:7.2f} ms  {ratio:4.2f}x  queries {sorted(queries[name])}")
    print(f"  goal: every page within {GOAL}x of the 20-job page and the same number of queries; worst {worst:.2f}x")
    assert baseline > 0 and all(times.values()), "measured nothing"
    # A filtered history also counts its matches (up to a cap): one query more, at any size.
    pages = {count for name in cases if "search" not in name for count in queries[name]}
    searches = {count for name in cases if "search" in name for count in queries[name]}
    assert len(pages) == 1 and len(searches) == 1, f"the number of queries changed with the size: {queries}"
    assert worst <= GOAL, f"slowest page at {worst:.2f}x the 20-job page (goal {GOAL}x)"
