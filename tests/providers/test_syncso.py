"""Sync Labs direct against its simulator, over real HTTP: generate with an idempotency key,
poll, cancel, download, and signed webhooks (sent, retried, verified, refused)."""

from __future__ import annotations

import json
import time
import uuid

import av
import pytest

from lipsync_site.providers import catalog
from lipsync_site.providers.base import (
    AccountProblem,
    InputFile,
    InputRejected,
    NotFound,
    ProviderError,
    RequestState,
    RetryableError,
    SubmissionUncertain,
    SubmitInputs,
    SubmitOptions,
)
from lipsync_site.providers.registry import get_provider
from lipsync_site.providers.simulators.common import wait_until
from lipsync_site.providers.syncso import (
    SIMULATOR_WEBHOOK_SECRET,
    WebhookRejected,
    idempotency_key,
    result_from_generation,
    sign_webhook,
    verify_webhook,
)

pytestmark = pytest.mark.django_db


def inputs(media) -> SubmitInputs:
    return SubmitInputs(video=InputFile(url=media.url("video.mp4")), audio=InputFile(url=media.url("voice.wav")))


def submit(media, route_id="sync-direct-2-pro", *, key=None, **option_changes) -> str:
    options = SubmitOptions(idempotency_key=key or str(uuid.uuid4()), **option_changes)
    return get_provider("syncso").submit(catalog.catalog_route(route_id), inputs(media), options)


def poll_until_terminal(request_id, *, timeout=20.0):
    seen = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = get_provider("syncso").poll(request_id)
        seen.append(result)
        if result.state.is_terminal:
            break
        time.sleep(0.05)
    return seen[-1], seen


# --- generate and poll ----------------------------------------------------------------------------
@pytest.mark.parametrize("route_id", ["sync-direct-2", "sync-direct-2-pro"])
def test_every_route_runs_end_to_end_by_polling(route_id, sync_sim, provider_media, tmp_path):
    request_id = submit(provider_media, route_id)
    final, seen = poll_until_terminal(request_id)
    assert final.state == RequestState.SUCCEEDED, [result.payload for result in seen]
    (output,) = get_provider("syncso").outputs(request_id)
    assert get_provider("syncso").download(output, tmp_path / "out.mp4", max_bytes=20_000_000) > 0
    with av.open(str(tmp_path / "out.mp4")) as container:
        assert container.streams.video and container.streams.audio
    assert sync_sim.generations[request_id].model == catalog.catalog_route(route_id).model_id


def test_contract_path_headers_and_body(sync_sim, provider_media):
    job_id = "7d7c8c1e-0f5b-4d83-9f0c-1a2b3c4d5e6f"
    submit(provider_media, key=job_id, mismatch_mode="bounce")
    (call,) = sync_sim.calls_to("submit")
    assert call["path"] == "/v2/generate"
    assert call["headers"]["x-api-key"] == "sync-simulator-key"
    assert call["headers"]["Idempotency-Key"] == f"lipsync-{job_id}"
    assert call["body"] == {
        "model": "lipsync-2-pro",
        "input": [
            {"type": "video", "url": provider_media.url("video.mp4")},
            {"type": "audio", "url": provider_media.url("voice.wav")},
        ],
        "options": {"sync_mode": "bounce", "active_speaker_detection": {"auto_detect": True}},
    }


@pytest.mark.parametrize("mode", ["cut_off", "loop", "bounce", "silence", "remap"])
def test_every_mismatch_mode_is_sent_as_sync_mode(mode, sync_sim, provider_media):
    request_id = submit(provider_media, mismatch_mode=mode)
    assert sync_sim.calls_to("submit")[0]["body"]["options"]["sync_mode"] == mode
    assert poll_until_terminal(request_id)[0].state == RequestState.SUCCEEDED


def test_active_speaker_detection_can_be_switched_off(sync_sim, provider_media):
    submit(provider_media, extra={"active_speaker_detection": False})
    assert "active_speaker_detection" not in sync_sim.calls_to("submit")[0]["body"]["options"]


def test_idempotency_keys_take_only_the_characters_sync_allows():
    assert idempotency_key("job/12 3:4") == "lipsync-job-12-3-4"
    assert len(idempotency_key("x" * 400)) == 128
    with pytest.raises(ProviderError):
        idempotency_key("")


# --- resending a generate is safe: the same key starts nothing new --------------------------------
@pytest.mark.parametrize("fault", ["accepted_then_error", "accepted_then_drop"])
def test_a_lost_answer_is_resent_with_the_same_key_and_starts_nothing_new(fault, sync_sim, provider_media):
    assert get_provider("syncso").supports_idempotency_keys is True
    sync_sim.inject(fault, endpoint="submit", status=502)
    key = str(uuid.uuid4())
    with pytest.raises(SubmissionUncertain):
        submit(provider_media, key=key)
    assert sync_sim.submit_count == 1  # it was accepted behind the error

    request_id = submit(provider_media, key=key)  # what the workflow does for this provider
    assert sync_sim.submit_count == 1
    assert list(sync_sim.generations) == [request_id]
    assert poll_until_terminal(request_id)[0].state == RequestState.SUCCEEDED


def test_a_5xx_before_acceptance_is_also_resent_safely(sync_sim, provider_media):
    sync_sim.inject("server_error", endpoint="submit", status=503)
    key = str(uuid.uuid4())
    with pytest.raises(SubmissionUncertain):
        submit(provider_media, key=key)
    request_id = submit(provider_media, key=key)
    assert sync_sim.submit_count == 1 and list(sync_sim.generations) == [request_id]


def test_the_same_key_with_another_body_is_our_bug_not_the_users(sync_sim, provider_media):
    key = str(uuid.uuid4())
    submit(provider_media, key=key, mismatch_mode="loop")
    with pytest.raises(ProviderError, match="idempotency") as caught:
        submit(provider_media, key=key, mismatch_mode="remap")
    assert not isinstance(caught.value, InputRejected)


# --- limits ------------------------------------------------------------------------------------------
def test_our_share_of_sixty_generate_calls_a_minute_is_kept_across_processes(sync_sim, provider_media, settings):
    settings.SYNC_GENERATE_PER_MINUTE = 2
    submit(provider_media)
    submit(provider_media)
    with pytest.raises(RetryableError, match="limit") as caught:
        submit(provider_media)
    assert 0 < caught.value.delay <= 60
    assert len(sync_sim.calls_to("submit")) == 2  # the third never left


def test_a_429_from_sync_is_obeyed(sync_sim, provider_media):
    sync_sim.generate_per_minute = 1
    submit(provider_media)
    with pytest.raises(RetryableError) as caught:
        submit(provider_media)
    assert caught.value.delay >= 1


def test_the_plans_concurrency_limit_is_retryable(sync_sim, provider_media):
    sync_sim.concurrency = 1
    sync_sim.pending_seconds = 2.0
    submit(provider_media)
    with pytest.raises(RetryableError, match="concurrent"):
        submit(provider_media)


# --- errors ------------------------------------------------------------------------------------------
def test_a_wrong_key_is_an_account_problem(sync_sim, provider_media, settings):
    sync_sim.api_key = "sk-sync-the-right-one"
    settings.SYNC_API_KEY = "sk-sync-a-wrong-one-123"
    settings.SYNC_BASE_URL = sync_sim.base_url
    with pytest.raises(AccountProblem, match="SYNC_API_KEY"):
        submit(provider_media)


def test_payment_required_is_an_account_problem(sync_sim, provider_media):
    sync_sim.inject("server_error", endpoint="submit", status=402, message="Insufficient credits")
    with pytest.raises(AccountProblem, match="402"):
        submit(provider_media)


def test_refused_inputs_are_input_rejected_with_the_reason(sync_sim, provider_media):
    sync_sim.inject("server_error", endpoint="submit", status=400, message="generation_audio_length_exceeded")
    with pytest.raises(InputRejected, match="audio_length"):
        submit(provider_media)


def test_a_failed_generation_fails_with_the_reason(sync_sim, provider_media):
    sync_sim.inject("failed_run", message="No face was detected in the video.")
    final, _ = poll_until_terminal(submit(provider_media))
    assert final.state == RequestState.FAILED
    assert "No face" in final.message


def test_a_rejected_generation_fails(sync_sim, provider_media):
    sync_sim.inject("failed_run", message="Content policy.", rejected=True)
    final, _ = poll_until_terminal(submit(provider_media))
    assert final.state == RequestState.FAILED and "refused" in final.message


def test_an_unknown_generation_is_not_found(sync_sim):
    with pytest.raises(NotFound):
        get_provider("syncso").poll(str(uuid.uuid4()))


def test_an_unknown_status_keeps_the_request_running():
    result = result_from_generation({"id": "g", "status": "UPLOADING"})
    assert result.state == RequestState.RUNNING and result.payload["unknown_status"] == "UPLOADING"


@pytest.mark.parametrize(
    ("status", "state"),
    [
        ("PENDING", RequestState.QUEUED),
        ("PROCESSING", RequestState.RUNNING),
        ("COMPLETED", RequestState.SUCCEEDED),
        ("FAILED", RequestState.FAILED),
        ("REJECTED", RequestState.FAILED),
        ("CANCELED", RequestState.CANCELLED),
    ],
)
def test_every_documented_status(status, state):
    assert result_from_generation({"id": "g", "status": status}).state == state


def test_cancel_a_pending_generation(sync_sim, provider_media):
    sync_sim.pending_seconds = 2.0
    request_id = submit(provider_media)
    assert get_provider("syncso").cancel(request_id) is True
    assert get_provider("syncso").poll(request_id).state == RequestState.CANCELLED


def test_a_processing_generation_cannot_be_cancelled(sync_sim, provider_media):
    sync_sim.inject("never_finishes")
    request_id = submit(provider_media)
    assert wait_until(lambda: sync_sim.generations[request_id].status == "PROCESSING")
    assert get_provider("syncso").cancel(request_id) is False


# --- webhooks ----------------------------------------------------------------------------------------
def test_the_finished_generation_is_posted_to_the_webhook_signed(sync_sim, provider_media, webhook_receiver):
    request_id = submit(provider_media, webhook_url=webhook_receiver.url)
    assert sync_sim.calls_to("submit")[0]["body"]["webhookUrl"] == webhook_receiver.url
    assert wait_until(lambda: webhook_receiver.received, timeout=20)
    (delivery,) = webhook_receiver.received
    payload = verify_webhook(delivery["body"], delivery["headers"]["Sync-Signature"])
    assert payload["id"] == request_id and payload["status"] == "COMPLETED" and payload["outputUrl"]
    assert result_from_generation(payload).state == RequestState.SUCCEEDED


def test_a_refused_delivery_is_retried_with_backoff(sync_sim, provider_media, webhook_receiver):
    webhook_receiver.answers = [500, 503]
    request_id = submit(provider_media, webhook_url=webhook_receiver.url)
    assert wait_until(lambda: len(webhook_receiver.received) == 3, timeout=20)

    def attempts():
        return [record for record in sync_sim.deliveries if record["id"] == request_id]

    # The simulator records an attempt once the receiver's answer is back: a moment after
    # the receiver has counted the request.
    assert wait_until(lambda: len(attempts()) == 3, timeout=5)
    attempts = attempts()
    assert [record["status"] for record in attempts] == [500, 503, 200]
    # The backoff doubles (the time between attempts also holds each request's own time,
    # which a loaded machine stretches at random).
    assert [record["waited"] for record in attempts] == [0.0, 0.05, 0.1]
    assert attempts[2]["at"] - attempts[1]["at"] >= 0.1 and attempts[1]["at"] - attempts[0]["at"] >= 0.05


@pytest.mark.parametrize("body", ["compact", "indented"])
def test_both_body_spellings_verify(body, sync_sim, provider_media, webhook_receiver):
    sync_sim.set_dialect(webhook_body=body)
    submit(provider_media, webhook_url=webhook_receiver.url)
    assert wait_until(lambda: webhook_receiver.received, timeout=20)
    (delivery,) = webhook_receiver.received
    assert verify_webhook(delivery["body"], delivery["headers"]["Sync-Signature"])["status"] == "COMPLETED"
    assert body in sync_sim.spoken_in("webhook_body")


@pytest.mark.parametrize(("mode", "reason"), [("bad_signature", "mismatch"), ("stale", "stale")])
def test_forged_or_stale_webhooks_are_refused(mode, reason, sync_sim, provider_media, webhook_receiver):
    sync_sim.webhook_mode = mode
    submit(provider_media, webhook_url=webhook_receiver.url)
    assert wait_until(lambda: webhook_receiver.received, timeout=20)
    delivery = webhook_receiver.received[0]
    with pytest.raises(WebhookRejected, match=reason):
        verify_webhook(delivery["body"], delivery["headers"]["Sync-Signature"])


def test_a_tampered_body_is_refused():
    body = json.dumps({"id": "g", "status": "FAILED"}).encode()
    header = sign_webhook(body, secret=SIMULATOR_WEBHOOK_SECRET)
    assert verify_webhook(body, header, secret=SIMULATOR_WEBHOOK_SECRET)["status"] == "FAILED"
    with pytest.raises(WebhookRejected):
        verify_webhook(body.replace(b"FAILED", b"COMPLETED"), header, secret=SIMULATOR_WEBHOOK_SECRET)


@pytest.mark.parametrize("header", ["", "v1=abc", "t=abc,v1=def", "t=123"])
def test_malformed_signature_headers_are_refused(header):
    with pytest.raises(WebhookRejected):
        verify_webhook(b"{}", header, secret=SIMULATOR_WEBHOOK_SECRET)


def test_a_future_timestamp_beyond_the_tolerance_is_refused(settings):
    body = b'{"id":"g","status":"COMPLETED"}'
    header = sign_webhook(body, secret=SIMULATOR_WEBHOOK_SECRET, timestamp=int(time.time()) + 3600)
    with pytest.raises(WebhookRejected, match="stale"):
        verify_webhook(body, header, secret=SIMULATOR_WEBHOOK_SECRET)


def test_without_a_signing_secret_no_webhook_is_asked_for(sync_sim, provider_media, settings, webhook_receiver):
    settings.SYNC_API_KEY = "sk-sync-real-key-without-webhooks"
    settings.SYNC_BASE_URL = sync_sim.base_url
    request_id = submit(provider_media, webhook_url=webhook_receiver.url)
    assert "webhookUrl" not in sync_sim.calls_to("submit")[0]["body"]
    assert poll_until_terminal(request_id)[0].state == RequestState.SUCCEEDED  # polling settles it


def test_the_simulators_secret_is_never_trusted_for_the_real_service(settings):
    settings.SYNC_API_KEY = "sk-sync-real"
    settings.SYNC_WEBHOOK_SECRET = ""
    body = b'{"id":"g","status":"COMPLETED"}'
    with pytest.raises(WebhookRejected, match="secret"):
        verify_webhook(body, sign_webhook(body, secret=SIMULATOR_WEBHOOK_SECRET))
