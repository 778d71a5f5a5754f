"""``make bench``: what the API costs next to the web form doing the same work, in the same
run. Prints the median time of: starting a job through the form (its Start step) and
through ``POST /api/v1/jobs``, without and with an ``Idempotency-Key`` (and a replay of one);
reading a job through the API next to the web job page's polled status partial."""

from __future__ import annotations

import statistics
import time
import uuid

import pytest
from django.test import Client

from lipsync_site.consent import texts
from tests import factories, mediafactory
from tests.api.conftest import token_for
from tests.conftest import Team, switch_client_to

pytestmark = [pytest.mark.bench, pytest.mark.django_db]

ROUNDS = 15


def median_ms(call) -> float:
    times = []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def test_bench_the_api_next_to_the_form(client, media_dir):
    team = Team(credits=100_000)
    video = factories.stored(
        team.member, mediafactory.make_video(media_dir / "v.mp4", seconds=1.0), "video", team.workspace
    )
    voice = factories.stored(
        team.member, mediafactory.make_audio(media_dir / "a.wav", seconds=1.0), "audio", team.workspace
    )
    switch_client_to(client, team.member, team.workspace)
    form = {
        "shape": "video_audio",
        "step": "start",
        "route": "local-draft",
        "confirm_no_face": "on",
        "video_asset": str(video.pk),
        "voice_assets": [str(voice.pk)],
        "person_name": "Ada Example",
        "likeness_consent": "on",
        "voice_provenance": "own",
        "public_figure": "no",
        "no_misuse": "on",
    }
    api = Client(headers={"Authorization": f"Bearer {token_for(team.member, team.workspace)}"})
    body = {
        "shape": "video_audio",
        "video": str(video.pk),
        "voices": [str(voice.pk)],
        "route": "local-draft",
        "confirm_no_face": True,
        "consent": {
            "version": texts.CURRENT_VERSION,
            "person_name": "Ada Example",
            "likeness_consent": True,
            "voice_provenance": "own",
            "no_misuse": True,
        },
    }

    def api_start(key=None):
        headers = {"Idempotency-Key": key} if key else {}
        response = api.post("/api/v1/jobs", body, content_type="application/json", headers=headers)
        assert response.status_code == 201, response.content
        return response

    figures = {
        "form Start (baseline)": median_ms(lambda: client.post("/jobs/new/", {**form, "once": uuid.uuid4().hex})),
        "API POST /jobs": median_ms(api_start),
        "API POST /jobs with a new key": median_ms(lambda: api_start(uuid.uuid4().hex)),
    }
    api_start("replayed")
    figures["API POST /jobs replayed key"] = median_ms(lambda: api_start("replayed"))
    job_id = api_start().json()["jobs"][0]["id"]
    figures["job status partial (baseline)"] = median_ms(lambda: client.get(f"/jobs/{job_id}/status/"))
    figures["API GET /jobs/{id}"] = median_ms(lambda: api.get(f"/api/v1/jobs/{job_id}"))
    print()
    for name, value in figures.items():
        print(f"{name:32} {value:7.1f} ms")
    assert all(value > 0 for value in figures.values())
