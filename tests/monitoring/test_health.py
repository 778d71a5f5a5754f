"""/health/: database, shared cache, media storage, broker and the tracker's heartbeat;
red (500) when no tracker has ticked for a minute."""

import re
import time

import pytest
from django.core.cache import cache

from lipsync_site.jobs.tracker import LAST_TICK_KEY, Tracker

# The checks run on threads with their own connections: they must see committed rows.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _no_tick_yet():
    cache.delete(LAST_TICK_KEY)


def test_it_is_green_once_a_tracker_has_ticked(client):
    tracker = Tracker(concurrency=1)
    tracker.tick()
    tracker.close()
    response = client.get("/health/?format=json")
    assert response.status_code == 200, response.content
    checks = response.json()
    assert set(checks.values()) == {"OK"}
    names = " ".join(checks)
    for check in ("Database", "Cache", "Storage", "Broker", "TrackerTick"):
        assert check in names


def test_it_is_red_when_the_tracker_has_not_ticked_for_a_minute(client, settings):
    cache.set(LAST_TICK_KEY, time.time() - 61, timeout=None)
    response = client.get("/health/?format=json")
    assert response.status_code == 500
    tracker = next(value for key, value in response.json().items() if "TrackerTick" in key)
    assert re.search(r"last ticked 6\d s ago \(more than 60 s\)", tracker), tracker
    # Everything else is fine: only the tracker is named.
    assert [key for key, value in response.json().items() if value != "OK"] == [
        key for key in response.json() if "TrackerTick" in key
    ]


def test_it_is_red_before_any_tracker_ticked(client):
    response = client.get("/health/?format=json")
    assert response.status_code == 500
    assert "No tracker has ticked yet." in response.content.decode()


def test_the_storage_check_uses_the_bucket_when_media_are_in_s3(client, s3_storage):
    cache.set(LAST_TICK_KEY, time.time(), timeout=None)
    assert client.get("/health/?format=json").status_code == 200
    assert s3_storage.names() == []  # the check's probe file is removed again


def test_a_person_gets_a_page(client):
    cache.set(LAST_TICK_KEY, time.time(), timeout=None)
    response = client.get("/health/", headers={"Accept": "text/html"})
    assert response.status_code == 200 and b"<html" in response.content.lower()
