"""Fixtures for the job engine: jobs made straight from stored media (no form), the
RunComfy simulator reachable over HTTP, and our own site live so the simulator fetches the
inputs through their signed provider links, as the real service would."""

from __future__ import annotations

import time

import pytest

from lipsync_site.providers.simulators.pytest_fixtures import *  # noqa: F403
from tests import factories, mediafactory


@pytest.fixture
def engine_settings(settings):
    """Polls as often as the tests tick; leases and requeues without waiting."""
    settings.JOBS_POLL_MIN_SECONDS = 0.0
    settings.JOBS_POLL_MAX_SECONDS = 0.0
    settings.JOBS_REQUEUE_AFTER_SECONDS = 60.0
    settings.PROVIDER_CALLS_PER_MINUTE = 60_000
    return settings


@pytest.fixture
def site(live_server, settings, engine_settings):
    """Our site, live, so providers can fetch inputs from their signed links."""
    settings.PUBLIC_BASE_URL = live_server.url
    return live_server


@pytest.fixture
def inputs(owner, media_dir):
    """A stored 1 s source video and voice, owned by ``owner``."""
    video = mediafactory.make_video(media_dir / "source.mp4", seconds=1.0)
    voice = mediafactory.make_audio(media_dir / "voice.wav", seconds=1.0)
    return {
        "video": factories.stored_file(owner, video, "video"),
        "voice": factories.stored_file(owner, voice, "audio"),
    }


@pytest.fixture
def make_job(inputs):
    """Jobs as ``create_job`` leaves them, made from the stored ``inputs``."""

    def make(owner=None, *, route_id="sync-v2", seconds=1.0, status=None):
        from lipsync_site.jobs.models import Status

        return factories.make_job(
            owner or inputs["video"].owner,
            video=inputs["video"],
            voice=inputs["voice"],
            route_id=route_id,
            seconds=seconds,
            status=status or Status.QUEUED,
        )

    return make


@pytest.fixture
def drive(engine_settings):
    """Tick a tracker (inline polls) until ``done()`` or the timeout; returns the tracker."""
    from lipsync_site.jobs.tracker import Tracker

    trackers = []

    def run(done, *, timeout=20.0, sweep_every=0.0, fast_forward=False):
        """``fast_forward``: retry delays (10-30 s after a fault) pass at once."""
        from django.utils import timezone

        from lipsync_site.jobs.models import Job

        tracker = Tracker(batch=50, concurrency=1, sweep_every=sweep_every)
        trackers.append(tracker)
        deadline = time.monotonic() + timeout
        while not done():
            assert time.monotonic() < deadline, "the jobs did not get there in time"
            if fast_forward:
                Job.objects.filter(next_poll_at__gt=timezone.now()).update(next_poll_at=timezone.now())
            tracker.tick()
            time.sleep(0.03)
        return tracker

    yield run
    for tracker in trackers:
        tracker.close()
