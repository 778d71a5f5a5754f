"""/metrics: the product's figures from shared state (jobs by state and route, queue depth,
poll lag, call budget, collected bytes, check scores, tracker age), and request metrics
summed over every gunicorn worker (prometheus_client's multiprocess mode)."""

import re
import time
from datetime import timedelta

import httpx
import pytest
from django.core.cache import cache
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from lipsync_site.jobs.models import Job, Status
from lipsync_site.jobs.tracker import LAST_TICK_KEY, take_calls
from tests import factories, mediafactory
from tests.webstack import Gunicorn, site_env


def samples(text: str) -> dict[tuple, float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


@pytest.fixture
def jobs(owner, tmp_path):
    video = factories.stored_file(owner, mediafactory.make_video(tmp_path / "v.mp4", seconds=1.0), "video")
    voice = factories.stored_file(owner, mediafactory.make_audio(tmp_path / "a.wav", seconds=1.0), "audio")
    queued = factories.make_job(owner, video=video, voice=voice, route_id="sync-v2")
    polled = factories.make_job(owner, video=video, voice=voice, route_id="sync-v2")
    Job.objects.filter(pk=polled.pk).update(
        status=Status.RUNNING, provider_request_id="req-1", next_poll_at=timezone.now() - timedelta(seconds=7)
    )
    done = factories.make_job(owner, video=video, voice=voice, route_id="local-draft")
    Job.objects.filter(pk=done.pk).update(output=video, lipsync_score=0.75)
    yield {"queued": queued, "polled": polled, "done": done, "video": video}
    for job in (queued, polled, done):
        factories.end(job)


@pytest.mark.django_db
def test_the_products_figures_are_exposed(client, jobs, settings):
    cache.set(LAST_TICK_KEY, time.time() - 3, timeout=None)
    # A budget of 2 calls a minute refills slowly enough to read what one call used.
    settings.PROVIDER_CALLS_PER_MINUTE = 2
    take_calls("syncso:default", 1, per_minute=2)
    response = client.get("/metrics")
    assert response.status_code == 200
    found = samples(response.content.decode())
    assert found[("lipsync_jobs", (("route", "sync-v2"), ("state", "queued")))] == 1
    assert found[("lipsync_jobs", (("route", "sync-v2"), ("state", "running")))] == 1
    assert found[("lipsync_jobs", (("route", "local-draft"), ("state", "queued")))] == 1
    assert 6.5 < found[("lipsync_poll_lag_seconds", ())] < 60
    assert ("lipsync_queue_depth", (("cluster", "lipsync"),)) in found
    assert found[("lipsync_provider_call_budget_used_ratio", (("account", "syncso:default"),))] > 0.9
    assert found[("lipsync_collected_bytes_total", ())] == jobs["video"].size_bytes
    assert found[("lipsync_check_score_count", ())] == 1
    assert found[("lipsync_check_score_bucket", (("le", "0.7"),))] == 0
    assert found[("lipsync_check_score_bucket", (("le", "0.8"),))] == 1
    assert 2 < found[("lipsync_tracker_last_tick_age_seconds", ())] < 30


def test_request_metrics_add_up_over_every_gunicorn_worker(transactional_db, tmp_path):
    gunicorn = Gunicorn(tmp_path, site_env(LIPSYNC_VAR_DIR=str(tmp_path / "var")), workers=2)
    try:
        for _ in range(20):
            assert httpx.get(gunicorn.url + "/accounts/login/").status_code == 200
        text = httpx.get(gunicorn.url + "/metrics").text
    finally:
        gunicorn.stop()
    served = sum(
        float(value)
        for value in re.findall(
            r'^lipsync_http_responses_total\{method="GET",status="200",view="account_login"\} (\S+)$', text, re.M
        )
    )
    assert served >= 20  # every worker's count, whichever worker answered the scrape
    assert "lipsync_jobs" in text and "lipsync_queue_depth" in text
