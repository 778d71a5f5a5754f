"""``Idempotency-Key``: the same key and body within a day get the first answer (one job,
one hold); the same key with another body is a 422; concurrent twins on PostgreSQL create
one job (the key's unique row, inserted ON CONFLICT DO NOTHING and locked)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest

from lipsync_site.credits.models import Hold
from lipsync_site.jobs.models import IdempotencyKey, Job
from tests.api.conftest import token_for
from tests.api.test_endpoints import upload
from tests.conftest import Team

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def team(db):
    return Team(credits=1000)


@pytest.fixture
def writer(api, team):
    return api(token_for(team.member, team.workspace))


def test_the_same_key_and_body_get_the_first_answer(writer, clip, voices):
    video = upload(writer, "video", clip, **{"Idempotency-Key": "video-1"})
    again = upload(writer, "video", clip, **{"Idempotency-Key": "video-1"})
    assert video.status_code == again.status_code == 201
    assert again.json() == video.json() and again.headers["Idempotent-Replayed"] == "true"
    voice = upload(writer, "voice", voices[0]).json()["id"]

    key = {"Idempotency-Key": "launch-fr"}
    body = {
        "shape": "video_audio",
        "video": video.json()["id"],
        "voices": [voice],
        "route": "local-draft",
        "confirm_no_face": True,
        "consent": {
            "version": writer.get("/consent").json()["version"],
            "person_name": "Ada Example",
            "likeness_consent": True,
            "voice_provenance": "own",
            "no_misuse": True,
        },
    }
    first = writer.post("/jobs", json=body, headers=key)
    second = writer.post("/jobs", json=body, headers=key)
    assert first.status_code == second.status_code == 201, first.text
    assert second.json() == first.json() and "Idempotent-Replayed" not in first.headers
    assert Job.objects.count() == 1 and Hold.objects.count() == 1

    other = writer.post("/jobs", json={**body, "mismatch_mode": "cut_off"}, headers=key)
    assert other.status_code == 422 and other.json()["code"] == "idempotency_key_reused"
    assert Job.objects.count() == 1

    # A day later the key is free again.
    IdempotencyKey.objects.update(created_at=IdempotencyKey.objects.get(key="launch-fr").created_at - timedelta(days=1))
    assert writer.post("/jobs", json=body, headers=key).json()["jobs"][0]["id"] != first.json()["jobs"][0]["id"]


def test_a_refused_request_is_not_remembered(writer, clip, voices):
    video = upload(writer, "video", clip).json()["id"]
    voice = upload(writer, "voice", voices[0]).json()["id"]
    key = {"Idempotency-Key": "retry-me"}
    body = {"shape": "video_audio", "video": video, "voices": [voice], "route": "local-draft", "confirm_no_face": True}
    stale = {"version": "2026-11-v2", "person_name": "A", "likeness_consent": True, "no_misuse": True}
    refused = writer.post("/jobs", json={**body, "consent": stale}, headers=key)
    assert refused.status_code == 422
    assert not IdempotencyKey.objects.exists()


@pytest.mark.postgres
def test_concurrent_twins_create_one_job(writer, clip, voices):
    video = upload(writer, "video", clip).json()["id"]
    voice = upload(writer, "voice", voices[0]).json()["id"]
    body = {
        "shape": "video_audio",
        "video": video,
        "voices": [voice],
        "route": "local-draft",
        "confirm_no_face": True,
        "consent": {
            "version": writer.get("/consent").json()["version"],
            "person_name": "Ada Example",
            "likeness_consent": True,
            "voice_provenance": "own",
            "no_misuse": True,
        },
    }
    key = {"Idempotency-Key": "double-click"}
    with ThreadPoolExecutor(max_workers=4) as pool:
        answers = list(pool.map(lambda _: writer.post("/jobs", json=body, headers=key), range(4)))
    assert [answer.status_code for answer in answers] == [201] * 4, [answer.text for answer in answers]
    assert len({answer.json()["jobs"][0]["id"] for answer in answers}) == 1
    assert sum(answer.headers.get("Idempotent-Replayed") == "true" for answer in answers) == 3
    assert Job.objects.count() == 1 and Hold.objects.count() == 1
