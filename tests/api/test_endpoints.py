"""Every endpoint over real HTTP, for each scope; another workspace's token; revoked,
expired and orphaned tokens; the error vocabulary; rate limits; the OpenAPI document."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from django.utils import timezone

from lipsync_site.consent import texts
from lipsync_site.credits.services import adjust_credits
from lipsync_site.jobs.models import Job, Status
from tests.api.conftest import token_for
from tests.conftest import Team, _user

pytestmark = pytest.mark.django_db(transaction=True)


def consent(**changes) -> dict:
    answers = {
        "version": texts.CURRENT_VERSION,
        "person_name": "Ada Example",
        "likeness_consent": True,
        "voice_provenance": "own",
        "no_misuse": True,
    }
    return {**answers, **changes}


def upload(client: httpx.Client, slot: str, path, **headers) -> httpx.Response:
    with open(path, "rb") as fh:
        return client.post("/media", data={"slot": slot}, files={"file": (path.name, fh)}, headers=headers)


def start(client, video_id, voice_ids, **changes) -> httpx.Response:
    # The test clip is a plain pattern: no face, which the form lets a user confirm (a stylized character).
    body = {
        "shape": "video_audio",
        "video": video_id,
        "voices": voice_ids,
        "route": "local-draft",
        "confirm_no_face": True,
        "consent": consent(),
    }
    return client.post("/jobs", json={**body, **changes})


@pytest.fixture
def team(db):
    return Team(credits=1000)


def test_a_write_token_does_every_step_and_a_read_token_only_reads(api, team, clip, voices):
    writer = api(token_for(team.member, team.workspace, "read", "write"))
    reader = api(token_for(team.member, team.workspace, "read"))

    assert reader.get("/consent").json()["version"] == texts.CURRENT_VERSION
    video = upload(writer, "video", clip)
    assert video.status_code == 201, video.text
    assert video.json()["kind"] == "video" and video.json()["duration_seconds"] == pytest.approx(1.0, abs=0.1)
    voice = upload(writer, "voice", voices[0]).json()

    asked = {"shape": "video_audio", "video": video.json()["id"], "voices": [voice["id"]]}
    blocked = writer.post("/quote", json=asked).json()
    assert not blocked["can_start"] and [check["code"] for check in blocked["checks"] if check["blocks"]] == ["face"]
    quote = writer.post("/quote", json={**asked, "confirm_no_face": True})
    assert quote.status_code == 200, quote.text
    offer = next(offer for offer in quote.json()["offers"] if offer["route"] == "local-draft")
    assert offer["fits"] and quote.json()["can_start"] and quote.json()["balance"]["available"] == 1000
    assert reader.post("/quote", json={"shape": "video_audio"}).status_code == 200  # reading, not spending

    created = start(writer, video.json()["id"], [voice["id"]])
    assert created.status_code == 201, created.text
    job = created.json()["jobs"][0]
    assert job["status"] in ("queued", "submitting", "running") and job["estimated_credits"] == offer["credits"]
    assert job["created_by"] == "team-member"

    detail = reader.get(f"/jobs/{job['id']}").json()
    assert detail["events"][0]["kind"] == "job.created"
    assert {"progress", "queue_position", "lipsync_score", "lipsync_offset_ms"} <= set(detail)
    listed = reader.get("/jobs", params={"state": "in_progress", "q": "clip"}).json()
    assert [row["id"] for row in listed["jobs"]] == [job["id"]]
    assert reader.get("/jobs", params={"state": "failed"}).json()["jobs"] == []
    assert reader.get("/balance").json() == {
        "available": 1000 - job["estimated_credits"],
        "held": job["estimated_credits"],
        "cap": None,
        "cap_left": None,
        "budget": 1000 - job["estimated_credits"],
    }
    assert [entry["kind"] for entry in reader.get("/ledger").json()["entries"]] == ["hold", "grant"]
    assert reader.get(f"/jobs/{job['id']}/download").json()["code"] == "not_delivered"

    for refused in (
        upload(reader, "video", clip),
        start(reader, video.json()["id"], [voice["id"]]),
        reader.post(f"/jobs/{job['id']}/cancel"),
    ):
        assert refused.status_code == 403 and refused.json()["code"] == "scope_missing"

    Job.objects.filter(pk=job["id"]).update(status=Status.QUEUED)  # no worker here: still queued
    cancelled = writer.post(f"/jobs/{job['id']}/cancel")
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["job"]["status"] == "cancelled"
    again = writer.post(f"/jobs/{job['id']}/cancel")
    assert again.status_code == 409 and again.json() == {
        "code": "not_cancellable",
        "message": "This job has already finished.",
    }
    assert reader.get("/balance").json()["available"] == 1000


def test_the_api_refuses_with_the_forms_words_and_stable_codes(api, team, clip, voices):
    writer = api(token_for(team.owner, team.workspace))
    video = upload(writer, "video", clip).json()["id"]
    voice = upload(writer, "voice", voices[0]).json()["id"]

    missing = start(writer, video, [voice], consent=consent(likeness_consent=False))
    assert missing.status_code == 422 and missing.json()["code"] == "consent_missing"
    assert "You must confirm that the person shown agreed" in missing.json()["message"]
    assert missing.json()["errors"][0]["field"] == "consent.likeness_consent"

    old = start(writer, video, [voice], consent=consent(version="2026-11-v2"))
    assert old.status_code == 422 and old.json()["code"] == "consent_outdated"

    adjust_credits(workspace=team.workspace, amount=-999, reason="spent elsewhere", actor=team.owner)
    poor = start(writer, video, [voice])
    assert poor.status_code == 422 and poor.json()["code"] == "insufficient_credits"
    assert poor.json()["message"].endswith("credits and the workspace has 1.")

    not_media = upload(writer, "video", voices[0])
    assert not_media.status_code == 422 and not_media.json()["code"] == "media_rejected"
    assert not_media.json()["message"].startswith("fr.wav: ")

    assert writer.get("/jobs/not-a-job").json()["code"] == "not_found"
    assert writer.get("/no-such-endpoint").json()["code"] == "not_found"
    schema = writer.post("/jobs", json={"shape": "video_audio"})
    assert schema.status_code == 422 and schema.json()["code"] == "invalid_request"


def test_another_workspaces_token_gets_404_for_everything_of_this_one(api, team, outsider, clip, voices):
    writer = api(token_for(team.member, team.workspace))
    video = upload(writer, "video", clip).json()["id"]
    voice = upload(writer, "voice", voices[0]).json()["id"]
    job = start(writer, video, [voice]).json()["jobs"][0]["id"]

    stranger = api(token_for(outsider, outsider.memberships.get().workspace))
    for response in (
        stranger.get(f"/jobs/{job}"),
        stranger.get(f"/jobs/{job}/download"),
        stranger.post(f"/jobs/{job}/cancel"),
        start(stranger, video, [voice]),
        stranger.post("/quote", json={"shape": "video_audio", "video": video}),
    ):
        assert response.status_code == 404 and response.json()["code"] == "not_found", response.text
    assert stranger.get("/jobs").json()["jobs"] == []
    assert stranger.get("/balance").json()["available"] == 1000  # their own


def test_revoked_expired_and_orphaned_tokens_stop_at_the_next_request(api, client, team):
    from lipsync_site.api.models import ApiToken
    from lipsync_site.workspaces.models import Membership
    from tests.conftest import switch_client_to

    secret = token_for(team.admin, team.workspace, "read")
    reader = api(secret)
    assert reader.get("/balance").status_code == 200

    token = ApiToken.objects.get(prefix=secret.split("_")[1])
    switch_client_to(client, team.owner, team.workspace)
    assert client.post(f"/workspaces/api/tokens/{token.pk}/revoke/").status_code == 302
    revoked = reader.get("/balance")
    assert revoked.status_code == 401 and revoked.json()["code"] == "token_revoked"

    expired = api(token_for(team.owner, team.workspace, expires_at=timezone.now() - timedelta(seconds=1)))
    assert expired.get("/balance").json()["code"] == "token_expired"
    assert api().get("/balance").json()["code"] == "token_missing"
    assert api("lsk_0123456789ab_guess").get("/balance").json()["code"] == "token_invalid"

    leaver = api(token_for(team.member, team.workspace))
    Membership.objects.filter(workspace=team.workspace, user=team.member).delete()
    assert leaver.get("/balance").json()["code"] == "token_invalid"

    viewer = api(token_for(team.viewer, team.workspace, "read", "write"))
    assert viewer.get("/balance").status_code == 200
    refused = viewer.post("/quote", json={"shape": "video_audio"})
    assert refused.status_code == 200  # quoting is reading
    refused = viewer.post("/jobs/00000000-0000-0000-0000-000000000000/cancel")
    assert refused.status_code == 403 and refused.json()["code"] == "role_forbids"


def test_a_token_over_its_rate_gets_429_with_retry_after(api, team, settings):
    settings.API_RATE_LIMIT = "3/min"
    reader = api(token_for(team.owner, team.workspace, "read"))
    other = api(token_for(team.owner, team.workspace, "read"))
    assert [reader.get("/balance").status_code for _ in range(3)] == [200, 200, 200]
    limited = reader.get("/balance")
    assert limited.status_code == 429 and limited.json()["code"] == "rate_limited"
    assert 0 < int(limited.headers["Retry-After"]) <= 60
    assert other.get("/balance").status_code == 200  # counted per token


def test_the_openapi_document_validates_and_the_docs_render(live_server):
    from openapi_spec_validator import validate

    document = httpx.get(f"{live_server.url}/api/v1/openapi.json").json()
    validate(document)
    assert {"/api/v1/jobs", "/api/v1/media", "/api/v1/jobs/{job_id}/download"} <= set(document["paths"])
    assert document["paths"]["/api/v1/jobs"]["post"]["parameters"][0]["name"] == "Idempotency-Key"
    docs = httpx.get(f"{live_server.url}/api/docs")
    assert docs.status_code == 200 and "swagger" in docs.text.lower()


def test_owners_and_admins_make_tokens_shown_once_and_stored_hashed(client, team):
    from lipsync_site.api.models import ApiToken
    from tests.conftest import switch_client_to

    switch_client_to(client, team.admin, team.workspace)
    page = client.post(
        "/workspaces/api/tokens/", {"name": "launch pipeline", "scopes": ["read", "write"], "expires_in_days": "30"}
    )
    assert page.status_code == 200
    secret = page.context["new_secret"]
    assert secret.startswith("lsk_") and secret in page.content.decode()
    token = ApiToken.objects.get()
    assert token.scopes == ["read", "write"] and token.created_by == team.admin
    assert secret not in (token.secret_hash, token.prefix) and token.expires_at > timezone.now() + timedelta(days=29)
    assert secret not in client.get("/workspaces/api/").content.decode()

    added = client.post(
        "/workspaces/api/webhooks/",
        {"url": "https://hooks.example.com/lipsync", "events": ["job.succeeded"]},
        follow=True,
    )
    endpoint = team.workspace.webhooks.get()
    assert endpoint.events == ["job.succeeded"] and endpoint.secret in added.content.decode()
    assert client.post(f"/workspaces/api/webhooks/{endpoint.pk}/delete/").status_code == 302
    assert not team.workspace.webhooks.exists()

    switch_client_to(client, team.member, team.workspace)
    assert client.get("/workspaces/api/").status_code == 403
    assert _user  # the outsider fixture's maker, imported for the 404 test


def test_an_oversize_upload_is_refused_with_the_forms_words_and_stores_nothing(api, team, media_dir, settings):
    from lipsync_site.media.models import Asset
    from tests import mediafactory

    settings.MEDIA_UPLOAD_MAX_BYTES = 4096
    big = mediafactory.make_video(media_dir / "big.mp4", seconds=2.0)
    assert big.stat().st_size > 4096
    refused = upload(api(token_for(team.member, team.workspace)), "video", big)
    assert refused.status_code == 413 and refused.json() == {
        "code": "upload_too_large",
        "message": "This file is larger than the upload limit of 0 MB.",
    }
    assert not Asset.objects.exists()
