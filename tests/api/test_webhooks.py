"""Webhooks: signed deliveries checked by an independent receiver, retried by a real
django-q2 worker after 500s, timeouts and redirects, sent again from the page; the
production guard against private receivers; consent rejections announced."""

from __future__ import annotations

import json

import pytest
from django.db import transaction

from lipsync_site.api import webhooks
from lipsync_site.api.models import WebhookDelivery
from lipsync_site.api.services import create_webhook
from lipsync_site.jobs.models import Status
from tests import factories, mediafactory
from tests.api.conftest import verify_signature, wait_for
from tests.conftest import Team, switch_client_to

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def team(db):
    return Team(credits=1000)


@pytest.fixture
def job(team, media_dir):
    video = factories.stored_file(
        team.member, mediafactory.make_video(media_dir / "v.mp4", seconds=1.0), "video", team.workspace
    )
    voice = factories.stored_file(
        team.member, mediafactory.make_audio(media_dir / "a.wav", seconds=1.0), "audio", team.workspace
    )
    return factories.make_job(team.member, video=video, voice=voice)


def hook(team, url, *events):
    return create_webhook(workspace=team.workspace, created_by=team.owner, url=url, events=list(events))


def settled(delivery_filter):
    return lambda: WebhookDelivery.objects.filter(**delivery_filter, status__in=["delivered", "failed"]).first()


def test_a_failed_job_is_announced_signed_and_the_receiver_verifies_it(team, job, receiver, worker):
    endpoint = hook(team, receiver.url, "job.failed", "job.succeeded")
    other = hook(team, receiver.url + "?succeeded-only", "job.succeeded")
    factories.end(job, why="the provider refused the clip")

    delivery = wait_for(settled({"endpoint": endpoint}), timeout=60, what="the delivery", logs=worker.logs)
    assert delivery.status == "delivered" and delivery.attempts == 1 and delivery.response_status == 200
    assert delivery.response_excerpt == '{"ok": true}'
    [sent] = receiver.requests
    assert verify_signature(endpoint.secret, sent["headers"]["Signature"], sent["body"])
    assert not verify_signature(other.secret, sent["headers"]["Signature"], sent["body"])
    payload = json.loads(sent["body"])
    assert payload["type"] == "job.failed" and payload["id"] == sent["headers"]["Webhook-Id"]
    assert payload["data"]["job"]["id"] == str(job.pk) and payload["data"]["job"]["status"] == Status.FAILED
    assert payload["data"]["job"]["error_message"] == "the provider refused the clip"
    assert not WebhookDelivery.objects.filter(endpoint=other).exists()


def test_deliveries_are_retried_after_500s_timeouts_and_redirects(team, job, receiver, worker):
    endpoint = hook(team, receiver.url, "job.failed")
    receiver.answers = [500, "sleep", 302]  # then 200
    factories.end(job)

    delivery = wait_for(settled({"endpoint": endpoint}), timeout=90, what="the retried delivery", logs=worker.logs)
    assert delivery.status == "delivered" and delivery.attempts == 4, delivery.error
    assert len(receiver.requests) == 4
    assert len({sent["headers"]["Webhook-Id"] for sent in receiver.requests}) == 1
    assert all(
        verify_signature(endpoint.secret, sent["headers"]["Signature"], sent["body"]) for sent in receiver.requests
    )
    assert {sent["path"] for sent in receiver.requests} == {"/hook"}  # the redirect was not followed


def test_a_delivery_given_up_is_sent_again_from_the_page(client, team, job, receiver, worker):
    endpoint = hook(team, receiver.url, "job.failed")
    receiver.answers = [503] * 4  # every attempt of the first delivery
    factories.end(job)
    given_up = wait_for(settled({"endpoint": endpoint}), timeout=90, what="giving up", logs=worker.logs)
    assert given_up.status == "failed" and given_up.attempts == 4 and given_up.response_status == 503

    switch_client_to(client, team.admin, team.workspace)
    page = client.get("/workspaces/api/").content.decode()
    assert f'id="delivery-{given_up.pk}"' in page and "Gave up" in page
    assert client.post(f"/workspaces/api/deliveries/{given_up.pk}/send-again/").status_code == 302
    again = wait_for(settled({"endpoint": endpoint, "status": "delivered"}), timeout=60, what="the resend")
    assert again.payload == given_up.payload and len(receiver.requests) == 5


def test_production_settings_send_nothing_to_private_addresses(client, team, job, receiver, settings):
    settings.WEBHOOK_ALLOW_PRIVATE = False
    settings.WEBHOOK_REQUIRE_HTTPS = True
    switch_client_to(client, team.owner, team.workspace)
    refused = client.post("/workspaces/api/webhooks/", {"url": receiver.url, "events": ["job.failed"]})
    assert refused.status_code == 400 and "Webhook URLs must use https." in refused.content.decode()

    for url in ("https://127.0.0.1/hook", "https://10.0.0.7/hook", "https://169.254.169.254/latest", "https://[::1]/"):
        assert "private, loopback or link-local" in webhooks.check_url(url), url
    assert webhooks.check_url("https://93.184.215.14/hook") == ""

    # A name that resolves to loopback is accepted when added (no lookup then) and refused at send time.
    endpoint = hook(team, f"https://localhost:{receiver.server.server_port}/hook", "job.failed")
    factories.end(job)
    delivery = WebhookDelivery.objects.get(endpoint=endpoint)
    assert webhooks.deliver(delivery.pk) == "retrying"
    delivery.refresh_from_db()
    assert "private, loopback or link-local" in delivery.error and delivery.response_status is None
    assert receiver.requests == []


def test_a_rejected_consent_is_announced_to_the_workspace(team, job, settings):
    from lipsync_site.moderation.services import create_moderator, reject_attestation

    endpoint = hook(team, "https://example.com/hook", "attestation.rejected", "job.cancelled")
    moderator, _ = create_moderator(username="mod", password="pw-mod-mod-mod")
    reject_attestation(attestation=job.attestation, moderator=moderator, reason="No release for this person.")
    # The queued job was cancelled by the rejection (its own event), and the rejection is announced.
    deliveries = {delivery.event: delivery for delivery in WebhookDelivery.objects.filter(endpoint=endpoint)}
    assert set(deliveries) == {"attestation.rejected", "job.cancelled"}
    delivery = deliveries["attestation.rejected"]
    assert delivery.payload["data"] == {
        "attestation": str(job.attestation_id),
        "reason": "No release for this person.",
        "jobs": [str(job.pk)],
    }


def test_long_retry_delays_go_to_the_scheduler_and_lost_deliveries_are_swept(team, job, receiver, sync_tasks):
    from datetime import timedelta

    from django.utils import timezone
    from django_q.models import Schedule

    endpoint = hook(team, receiver.url, "job.failed")
    with transaction.atomic():
        webhooks.enqueue_delivery("00000000-0000-0000-0000-000000000001", delay=600)
    [later] = Schedule.objects.filter(func=webhooks.TASK)
    assert later.schedule_type == Schedule.ONCE and later.next_run > timezone.now() + timedelta(seconds=590)

    # A delivery whose task the queue lost (a worker killed, a broker restarted) is sent by the sweep.
    lost = WebhookDelivery.objects.create(
        endpoint=endpoint, event="job.failed", payload={"id": "lost"}, created_at=timezone.now() - timedelta(minutes=6)
    )
    fresh = WebhookDelivery.objects.create(endpoint=endpoint, event="job.failed", payload={"id": "fresh"})
    assert webhooks.resend_lost() == 1
    lost.refresh_from_db()
    fresh.refresh_from_db()
    assert lost.status == "delivered" and fresh.status == "pending"
    assert [json.loads(sent["body"])["id"] for sent in receiver.requests] == ["lost"]
