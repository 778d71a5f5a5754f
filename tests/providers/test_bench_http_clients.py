"""``make bench``: CPU per provider call with the shared client, next to a client built per
call (what every call did before), measured in the same run against the simulator."""

from __future__ import annotations

import time

import pytest

from lipsync_site.providers import catalog, http
from lipsync_site.providers.base import InputFile, SubmitInputs, SubmitOptions
from lipsync_site.providers.registry import get_provider

CALLS = 200


@pytest.mark.bench
def test_shared_client_cpu_per_call_against_a_client_per_call(runcomfy_sim, provider_media):
    provider = get_provider("runcomfy")
    inputs = SubmitInputs(
        video=InputFile(url=provider_media.url("video.mp4")), audio=InputFile(url=provider_media.url("voice.wav"))
    )
    request_id = provider.submit(catalog.catalog_route("sync-v2"), inputs, SubmitOptions())
    runcomfy_sim.inject("never_finishes")  # keep it answering "running"
    path = f"/v1/requests/{request_id}/status"
    headers = {"Authorization": "Bearer simulator-token"}

    def per_call_client():
        with http.make_client(base_url=runcomfy_sim.base_url) as client:
            return client.get(path, headers=headers)

    def shared():
        return http.shared_client("bench", base_url=runcomfy_sim.base_url).get(
            path, headers=headers, timeout=http.call_timeout()
        )

    figures = {}
    for name, call in (("client per call (before)", per_call_client), ("shared client", shared)):
        before = len(runcomfy_sim.calls_to("status"))
        call()  # warm up
        started = time.thread_time()  # this thread only: the simulator's threads are not counted
        for _ in range(CALLS):
            assert call().status_code == 200
        figures[name] = (time.thread_time() - started) / CALLS * 1000
        assert len(runcomfy_sim.calls_to("status")) - before == CALLS + 1  # every call reached the service

    for name, ms in figures.items():
        print(f"provider call CPU, {name}: {ms:.2f} ms")
    assert figures["shared client"] < figures["client per call (before)"]
