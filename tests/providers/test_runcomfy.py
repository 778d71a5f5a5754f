"""The RunComfy adapter against the RunComfy simulator, over real HTTP."""

from __future__ import annotations

import dataclasses

import av
import httpx
import pytest

from lipsync_site.providers import catalog, routes
from lipsync_site.providers.base import (
    AccountProblem,
    InputFile,
    InputRejected,
    NotFound,
    OutputRejected,
    ProviderOutput,
    RequestState,
    RetryableError,
    SubmissionUncertain,
    SubmitInputs,
    SubmitOptions,
)
from lipsync_site.providers.registry import get_provider

RUNCOMFY_ROUTES = [route for route in catalog.ROUTES if route.provider == "runcomfy"]

# The contract: the exact body each route sends for the standard inputs below.
EXPECTED_BODIES = {
    "sync-v2-pro": {"video_url": "V", "audio_url": "A", "sync_mode": "cut_off"},
    "sync-v2": {"video_url": "V", "audio_url": "A", "sync_mode": "cut_off"},
    "kling-lipsync-audio": {"video_url": "V", "audio_url": "A"},
    "kling-lipsync-text": {
        "video_url": "V",
        "text": "Hello from the simulator.",
        "voice_id": "oversea_male1",
        "voice_language": "en",
    },
    "creatify-lipsync": {"video_url": "V", "audio_url": "A"},
    "omnihuman": {"image_url": "I", "audio_url": "A"},
    "wan-2-7-audio": {
        "prompt": "A presenter in a bright studio.",
        "audio_url": "A",
        "aspect_ratio": "16:9",
        "resolution": "720p",
        "duration": 3,
    },
    # HappyHorse documents 720P/1080P (upper case); image-to-video has no aspect_ratio.
    "happyhorse-t2v": {
        "prompt": 'A presenter in a bright studio. The person says clearly: "Hello from the simulator."',
        "aspect_ratio": "16:9",
        "resolution": "720P",
        "duration": 3,
    },
    "happyhorse-i2v": {
        "prompt": 'A presenter in a bright studio. The person says clearly: "Hello from the simulator."',
        "image_url": "I",
        "resolution": "720P",
        "duration": 3,
    },
}


def inputs_for(route, media) -> SubmitInputs:
    needs = set(route.needs) | set(route.optional_inputs)
    return SubmitInputs(
        video=InputFile(url=media.url("video.mp4")) if "video" in needs else None,
        image=InputFile(url=media.url("portrait.png")) if "image" in needs else None,
        audio=InputFile(url=media.url("voice.wav")) if "audio" in needs else None,
        text="Hello from the simulator." if "text" in needs else "",
        prompt="A presenter in a bright studio." if "text" in needs else "",
    )


def options_for(route) -> SubmitOptions:
    return SubmitOptions(mismatch_mode="cut_off", extra={"duration": 3} if route.is_generated else {})


def poll_until_terminal(provider, request_id, *, polls: int = 40):
    seen = []
    for _ in range(polls):
        result = provider.poll(request_id)
        seen.append(result)
        if result.state.is_terminal:
            return result, seen
        # the simulator renders in a thread; give it a moment between polls
        import time

        time.sleep(0.02)
    return seen[-1], seen


def submit(sim, media, route_id="sync-v2", **option_changes):
    route = routes.get_route(route_id)
    options = dataclasses.replace(options_for(route), **option_changes)
    return get_provider("runcomfy").submit(route, inputs_for(route, media), options)


# --- the happy path, every route ---------------------------------------------------------------
@pytest.mark.parametrize("route", RUNCOMFY_ROUTES, ids=lambda route: route.id)
def test_every_route_runs_end_to_end(route, runcomfy_sim, provider_media, tmp_path):
    provider = get_provider("runcomfy")
    request_id = provider.submit(route, inputs_for(route, provider_media), options_for(route))

    final, seen = poll_until_terminal(provider, request_id)
    assert final.state == RequestState.SUCCEEDED
    assert seen[0].state == RequestState.QUEUED and seen[0].queue_position == 1
    assert RequestState.RUNNING in {result.state for result in seen}

    outputs = provider.outputs(request_id)
    assert [output.kind for output in outputs] == ["video"]
    size = provider.download(outputs[0], tmp_path / "out.mp4", max_bytes=50_000_000)
    assert size == (tmp_path / "out.mp4").stat().st_size > 0
    with av.open(str(tmp_path / "out.mp4")) as container:
        assert container.streams.video and container.streams.audio
    assert runcomfy_sim.submit_count == 1


@pytest.mark.parametrize("route", RUNCOMFY_ROUTES, ids=lambda route: route.id)
def test_contract_path_headers_and_body(route, runcomfy_sim, provider_media):
    get_provider("runcomfy").submit(route, inputs_for(route, provider_media), options_for(route))

    (call,) = runcomfy_sim.calls_to("submit")
    assert call["method"] == "POST"
    assert call["path"] == f"/v1/models/{route.model_id}"
    assert call["headers"]["Authorization"] == "Bearer simulator-token"
    assert call["headers"]["Content-Type"] == "application/json"
    placeholders = {
        provider_media.url("video.mp4"): "V",
        provider_media.url("voice.wav"): "A",
        provider_media.url("portrait.png"): "I",
    }
    body = {key: placeholders.get(value, value) for key, value in call["body"].items()}
    assert body == EXPECTED_BODIES[route.id]


def test_the_simulator_fetches_inputs_without_credentials(runcomfy_sim, provider_media):
    before = len(provider_media.fetches)
    request_id = submit(runcomfy_sim, provider_media, "sync-v2")
    poll_until_terminal(get_provider("runcomfy"), request_id)
    fetches = provider_media.fetches[before:]
    # Other tests' simulated runs may still be fetching in the background: look for ours.
    assert {"/video.mp4", "/voice.wav"} <= {fetch["path"] for fetch in fetches}
    assert all("Authorization" not in fetch["headers"] for fetch in provider_media.fetches)


def test_poll_paths_are_status_then_result(runcomfy_sim, provider_media):
    request_id = submit(runcomfy_sim, provider_media)
    poll_until_terminal(get_provider("runcomfy"), request_id)
    paths = [call["path"] for call in runcomfy_sim.calls if call["endpoint"] in {"status", "result"}]
    assert paths[0] == f"/v1/requests/{request_id}/status"
    assert paths[-1] == f"/v1/requests/{request_id}/result"


def test_mismatch_mode_is_sent_only_where_the_route_supports_it(runcomfy_sim, provider_media):
    submit(runcomfy_sim, provider_media, "sync-v2-pro", mismatch_mode="bounce")
    submit(runcomfy_sim, provider_media, "kling-lipsync-audio", mismatch_mode="bounce")
    submit(runcomfy_sim, provider_media, "creatify-lipsync", mismatch_mode="loop")
    sync_body, kling_body, creatify_body = (call["body"] for call in runcomfy_sim.calls_to("submit"))
    assert sync_body["sync_mode"] == "bounce"
    assert "sync_mode" not in kling_body
    assert creatify_body["loop"] is True


def test_script_too_long_for_kling_is_rejected_before_anything_is_sent(runcomfy_sim, provider_media):
    route = routes.get_route("kling-lipsync-text")
    inputs = dataclasses.replace(inputs_for(route, provider_media), text="x" * 121)
    with pytest.raises(InputRejected, match="120"):
        get_provider("runcomfy").submit(route, inputs, SubmitOptions())
    assert runcomfy_sim.calls == []


def test_schema_mismatch_422_is_input_rejected_naming_the_field(runcomfy_sim, provider_media):
    # A route whose body builder does not match its model: the service answers 422.
    broken = dataclasses.replace(routes.get_route("omnihuman"), body="video_audio")
    inputs = SubmitInputs(
        video=InputFile(url=provider_media.url("video.mp4")), audio=InputFile(url=provider_media.url("voice.wav"))
    )
    with pytest.raises(InputRejected, match="image_url"):
        get_provider("runcomfy").submit(broken, inputs, SubmitOptions())
    assert runcomfy_sim.submit_count == 0


# --- submit faults: retried only when the request never reached the service ---------------------
def test_submit_rate_limited_is_retryable_with_retry_after(runcomfy_sim, provider_media):
    runcomfy_sim.inject("rate_limit", endpoint="submit", retry_after=7)
    with pytest.raises(RetryableError) as caught:
        submit(runcomfy_sim, provider_media)
    assert caught.value.delay == 7
    assert runcomfy_sim.submit_count == 0


@pytest.mark.parametrize("status", [500, 502, 503, 504, 408])
def test_submit_answered_5xx_or_408_is_an_unknown_outcome_never_a_retry(status, runcomfy_sim, provider_media):
    # RunComfy documents no idempotency; its ComfyUI client never retries a paid POST.
    runcomfy_sim.inject("server_error", endpoint="submit", status=status)
    with pytest.raises(SubmissionUncertain, match="may have been queued"):
        submit(runcomfy_sim, provider_media)
    assert get_provider("runcomfy").supports_idempotency_keys is False


def test_gateway_5xx_hiding_an_accepted_run_is_uncertain(runcomfy_sim, provider_media):
    runcomfy_sim.inject("accepted_then_error", endpoint="submit", status=502)
    with pytest.raises(SubmissionUncertain):
        submit(runcomfy_sim, provider_media)
    assert runcomfy_sim.submit_count == 1  # the run exists and will be charged: resending pays twice


def test_submit_answered_402_is_an_account_problem(runcomfy_sim, provider_media):
    runcomfy_sim.inject("server_error", endpoint="submit", status=402, error_code=402001, message="Payment required")
    with pytest.raises(AccountProblem, match="balance"):
        submit(runcomfy_sim, provider_media)


def test_unknown_model_on_submit_is_an_account_problem_for_the_catalog(runcomfy_sim, provider_media):
    route = dataclasses.replace(catalog.catalog_route("sync-v2"), model_id="sync/no-such-model")
    with pytest.raises(AccountProblem, match="model id"):
        get_provider("runcomfy").submit(route, inputs_for(route, provider_media), options_for(route))


def test_submit_timeout_after_sending_is_uncertain_never_retryable(runcomfy_sim, provider_media, settings):
    settings.PROVIDER_HTTP_TIMEOUT_SECONDS = 0.5
    runcomfy_sim.inject("slow", endpoint="submit", seconds=2.0)
    with pytest.raises(SubmissionUncertain):
        submit(runcomfy_sim, provider_media)


def test_submit_dropped_connection_is_uncertain(runcomfy_sim, provider_media):
    runcomfy_sim.inject("drop", endpoint="submit")
    with pytest.raises(SubmissionUncertain):
        submit(runcomfy_sim, provider_media)


def test_submit_malformed_json_is_uncertain(runcomfy_sim, provider_media):
    runcomfy_sim.inject("malformed_json", endpoint="submit")
    with pytest.raises(SubmissionUncertain):
        submit(runcomfy_sim, provider_media)


def test_submit_to_a_closed_port_is_retryable(runcomfy_sim, provider_media, settings):
    settings.RUNCOMFY_SIMULATOR_URL = "http://127.0.0.1:9"  # discard port: nothing listens
    with pytest.raises(RetryableError):
        submit(runcomfy_sim, provider_media)


@pytest.mark.parametrize(
    ("code", "error", "text"),
    [
        (400002, AccountProblem, "balance"),
        (400004, AccountProblem, "token"),
        (400001, AccountProblem, "model id"),
        (403001, AccountProblem, "another"),
        (500001, SubmissionUncertain, "may have been queued"),
    ],
)
def test_error_body_on_http_200_is_mapped(code, error, text, runcomfy_sim, provider_media):
    runcomfy_sim.inject("error_200", endpoint="submit", error_code=code)
    with pytest.raises(error, match=text):
        submit(runcomfy_sim, provider_media)


def test_wrong_api_key_is_an_account_problem(runcomfy_sim, provider_media, settings):
    runcomfy_sim.api_key = "rc-the-right-key-000000"
    settings.RUNCOMFY_API_KEY = "rc-a-wrong-key-1111111"
    settings.RUNCOMFY_BASE_URL = runcomfy_sim.base_url
    with pytest.raises(AccountProblem, match="RUNCOMFY_API_KEY"):
        submit(runcomfy_sim, provider_media)


def test_with_a_key_the_same_code_talks_to_the_configured_base_url(runcomfy_sim, provider_media, settings):
    runcomfy_sim.api_key = "rc-the-right-key-000000"
    settings.RUNCOMFY_API_KEY = "rc-the-right-key-000000"
    settings.RUNCOMFY_BASE_URL = runcomfy_sim.base_url
    settings.RUNCOMFY_SIMULATOR_URL = "http://127.0.0.1:9"
    request_id = submit(runcomfy_sim, provider_media)
    assert runcomfy_sim.calls_to("submit")[0]["headers"]["Authorization"] == "Bearer rc-the-right-key-000000"
    assert not routes.is_simulated(routes.get_route("sync-v2"))
    final, _ = poll_until_terminal(get_provider("runcomfy"), request_id)
    assert final.state == RequestState.SUCCEEDED


# --- poll faults: reads are safe to repeat, so all are retryable ---------------------------------
@pytest.mark.parametrize(
    ("fault", "params"),
    [
        ("rate_limit", {"retry_after": 3}),
        ("server_error", {"status": 502}),
        ("slow", {"seconds": 2.0}),
        ("drop", {}),
        ("malformed_json", {}),
        ("error_200", {"error_code": 500002}),
        ("server_error", {"status": 408}),
    ],
)
def test_poll_faults_are_retryable(fault, params, runcomfy_sim, provider_media, settings):
    request_id = submit(runcomfy_sim, provider_media)  # at the usual timeout: a loaded machine is slow, not faulty
    usual = settings.PROVIDER_HTTP_TIMEOUT_SECONDS
    settings.PROVIDER_HTTP_TIMEOUT_SECONDS = 0.5  # well under the simulator's 2 s stall
    runcomfy_sim.inject(fault, endpoint="status", **params)
    with pytest.raises(RetryableError) as caught:
        get_provider("runcomfy").poll(request_id)
    settings.PROVIDER_HTTP_TIMEOUT_SECONDS = usual
    if fault == "rate_limit":
        assert caught.value.delay == 3
    # and the next poll goes through
    assert get_provider("runcomfy").poll(request_id).state in {RequestState.QUEUED, RequestState.RUNNING}


def test_poll_rate_limit_from_the_control_endpoint(runcomfy_sim, provider_media):
    request_id = submit(runcomfy_sim, provider_media)
    response = httpx.post(
        f"{runcomfy_sim.base_url}/_sim/faults",
        json={"fault": "rate_limit", "endpoint": "status", "params": {"retry_after": 11}},
        trust_env=False,
    )
    assert response.status_code == 200
    with pytest.raises(RetryableError) as caught:
        get_provider("runcomfy").poll(request_id)
    assert caught.value.delay == 11
    stats = httpx.get(f"{runcomfy_sim.base_url}/_sim/stats", trust_env=False).json()
    assert stats["submits"] == 1


def test_unknown_request_is_not_found(runcomfy_sim):
    with pytest.raises(NotFound):
        get_provider("runcomfy").poll("00000000-0000-0000-0000-000000000000")
    with pytest.raises(NotFound):
        get_provider("runcomfy").poll("../../v1/models")


def test_failed_run_is_failed_with_the_reason(runcomfy_sim, provider_media):
    runcomfy_sim.inject("failed_run", message="No face found in the source video.")
    request_id = submit(runcomfy_sim, provider_media)
    final, _ = poll_until_terminal(get_provider("runcomfy"), request_id)
    assert final.state == RequestState.FAILED
    assert "No face found" in final.message
    assert get_provider("runcomfy").outputs(request_id) == []


def test_run_that_never_finishes_stays_running(runcomfy_sim, provider_media):
    runcomfy_sim.inject("never_finishes")
    request_id = submit(runcomfy_sim, provider_media)
    final, seen = poll_until_terminal(get_provider("runcomfy"), request_id, polls=8)
    assert final.state == RequestState.RUNNING
    assert len(seen) == 8


def test_failed_input_fetch_fails_the_run(runcomfy_sim, provider_media):
    route = routes.get_route("sync-v2")
    inputs = SubmitInputs(
        video=InputFile(url=provider_media.url("missing.mp4")), audio=InputFile(url=provider_media.url("voice.wav"))
    )
    request_id = get_provider("runcomfy").submit(route, inputs, SubmitOptions())
    final, _ = poll_until_terminal(get_provider("runcomfy"), request_id)
    assert final.state == RequestState.FAILED
    assert "404" in final.message


# --- cancel ---------------------------------------------------------------------------------------
def test_cancel_a_queued_request(runcomfy_sim, provider_media):
    request_id = submit(runcomfy_sim, provider_media)
    assert get_provider("runcomfy").cancel(request_id) is True
    assert get_provider("runcomfy").poll(request_id).state == RequestState.CANCELLED
    (call,) = runcomfy_sim.calls_to("cancel")
    assert call["method"] == "POST" and call["path"] == f"/v1/requests/{request_id}/cancel"


def test_cancel_a_running_request_is_refused(runcomfy_sim, provider_media):
    request_id = submit(runcomfy_sim, provider_media)
    get_provider("runcomfy").poll(request_id)
    get_provider("runcomfy").poll(request_id)
    assert get_provider("runcomfy").cancel(request_id) is False


# --- downloads --------------------------------------------------------------------------------------
def finished_outputs(sim, media, fault=None, **params):
    if fault:
        sim.inject(fault, **params)
    request_id = submit(sim, media)
    final, _ = poll_until_terminal(get_provider("runcomfy"), request_id)
    assert final.state == RequestState.SUCCEEDED
    return get_provider("runcomfy").outputs(request_id)


def test_output_on_a_disallowed_host_is_refused_without_connecting(runcomfy_sim, provider_media, tmp_path):
    (output,) = finished_outputs(runcomfy_sim, provider_media, "disallowed_host")
    with pytest.raises(OutputRejected, match="host"):
        get_provider("runcomfy").download(output, tmp_path / "out.mp4", max_bytes=10_000_000)
    assert not (tmp_path / "out.mp4").exists()


def test_oversize_output_without_length_is_aborted_past_the_cap(runcomfy_sim, provider_media, tmp_path):
    (output,) = finished_outputs(runcomfy_sim, provider_media, "oversize_output", bytes=4_000_000)
    with pytest.raises(OutputRejected, match="cap"):
        get_provider("runcomfy").download(output, tmp_path / "out.mp4", max_bytes=1_000_000)
    assert not (tmp_path / "out.mp4").exists()


def test_output_announced_over_the_cap_is_refused_before_reading(runcomfy_sim, provider_media, tmp_path):
    (output,) = finished_outputs(runcomfy_sim, provider_media)
    with pytest.raises(OutputRejected, match="over the 100 byte cap"):
        get_provider("runcomfy").download(output, tmp_path / "out.mp4", max_bytes=100)


def test_truncated_output_is_retryable_and_leaves_no_file(runcomfy_sim, provider_media, tmp_path):
    (output,) = finished_outputs(runcomfy_sim, provider_media, "truncated_output")
    with pytest.raises(RetryableError):
        get_provider("runcomfy").download(output, tmp_path / "out.mp4", max_bytes=10_000_000)
    assert not (tmp_path / "out.mp4").exists()


def test_download_past_the_total_deadline_is_aborted(runcomfy_sim, provider_media, tmp_path, settings):
    (output,) = finished_outputs(runcomfy_sim, provider_media, "oversize_output")
    settings.PROVIDER_DOWNLOAD_DEADLINE_SECONDS = 0.0
    with pytest.raises(RetryableError, match="deadline"):
        get_provider("runcomfy").download(output, tmp_path / "out.mp4", max_bytes=10**9)
    assert not (tmp_path / "out.mp4").exists()


def test_download_5xx_is_retryable(runcomfy_sim, provider_media, tmp_path):
    (output,) = finished_outputs(runcomfy_sim, provider_media)
    runcomfy_sim.inject("server_error", endpoint="download", status=503)
    with pytest.raises(RetryableError):
        get_provider("runcomfy").download(output, tmp_path / "out.mp4", max_bytes=10_000_000)


def test_download_sends_no_token(runcomfy_sim, provider_media, tmp_path):
    (output,) = finished_outputs(runcomfy_sim, provider_media)
    get_provider("runcomfy").download(output, tmp_path / "out.mp4", max_bytes=10_000_000)
    (call,) = runcomfy_sim.calls_to("download")
    assert "Authorization" not in call["headers"]


def test_production_allowlist_refuses_loopback(runcomfy_sim, provider_media, tmp_path, settings):
    (output,) = finished_outputs(runcomfy_sim, provider_media)
    settings.PROVIDER_EXTRA_DOWNLOAD_HOSTS = []
    with pytest.raises(OutputRejected):
        get_provider("runcomfy").download(output, tmp_path / "out.mp4", max_bytes=10_000_000)
    assert runcomfy_sim.calls_to("download") == []


def test_outputs_of_every_documented_shape_are_read():
    from lipsync_site.providers.runcomfy import parse_outputs

    outputs = parse_outputs(
        {
            "video": "https://a.runcomfy.net/v.mp4",
            "images": ["https://a.runcomfy.net/1.png", "https://a.runcomfy.net/2.png"],
            "audio": "https://a.runcomfy.com/a.mp3",
            "url": "https://a.runcomfy.net/x.mp4",
            "seed": 42,
        }
    )
    assert outputs == [
        ProviderOutput("https://a.runcomfy.net/v.mp4", "video"),
        ProviderOutput("https://a.runcomfy.net/1.png", "image"),
        ProviderOutput("https://a.runcomfy.net/2.png", "image"),
        ProviderOutput("https://a.runcomfy.com/a.mp3", "audio"),
        ProviderOutput("https://a.runcomfy.net/x.mp4", "video"),
    ]


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://files.runcomfy.net/a.mp4", True),
        ("https://runcomfy.com/a.mp4", True),
        ("http://files.runcomfy.net/a.mp4", False),
        ("https://files.runcomfy.net.evil.example/a.mp4", False),
        ("https://evilruncomfy.net/a.mp4", False),
        ("https://user:pass@files.runcomfy.net/a.mp4", False),
        ("http://127.0.0.1:8765/files/x", True),
        ("ftp://files.runcomfy.net/a.mp4", False),
    ],
)
def test_host_allowlist(url, allowed):
    from lipsync_site.providers.http import host_allowed

    assert host_allowed(url, suffixes=[".runcomfy.net", ".runcomfy.com"], extra_hosts=["127.0.0.1"]) is allowed


def test_redirects_are_followed_only_to_allowed_hosts(runcomfy_sim, provider_media, tmp_path):
    (output,) = finished_outputs(runcomfy_sim, provider_media)
    path = output.url.removeprefix(runcomfy_sim.base_url)
    to_self = ProviderOutput(f"{runcomfy_sim.base_url}/_sim/redirect?to={path}")
    assert get_provider("runcomfy").download(to_self, tmp_path / "ok.mp4", max_bytes=10_000_000) > 0

    away = ProviderOutput(f"{runcomfy_sim.base_url}/_sim/redirect?to=https://cdn.not-allowed.example/x.mp4")
    with pytest.raises(OutputRejected, match="host"):
        get_provider("runcomfy").download(away, tmp_path / "away.mp4", max_bytes=10_000_000)
    assert not (tmp_path / "away.mp4").exists()


def test_expired_output_link_is_not_found(runcomfy_sim, provider_media, tmp_path):
    (output,) = finished_outputs(runcomfy_sim, provider_media)
    gone = ProviderOutput(output.url.replace("output.mp4", "other.mp4"))
    with pytest.raises(NotFound):
        get_provider("runcomfy").download(gone, tmp_path / "out.mp4", max_bytes=10_000_000)


def test_payload_excerpts_drop_signed_url_queries():
    from lipsync_site.providers.http import without_url_queries

    answer = {"output": {"videos": ["https://a.runcomfy.net/v.mp4?X-Amz-Signature=abc"]}, "status": "succeeded"}
    assert without_url_queries(answer) == {
        "output": {"videos": ["https://a.runcomfy.net/v.mp4?…"]},
        "status": "succeeded",
    }


def test_proxy_variables_from_the_environment_are_ignored(runcomfy_sim, provider_media, monkeypatch, tmp_path):
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "all_proxy"):
        monkeypatch.setenv(name, "http://127.0.0.1:9")  # nothing listens: a proxied call would fail
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    (output,) = finished_outputs(runcomfy_sim, provider_media)
    assert get_provider("runcomfy").download(output, tmp_path / "out.mp4", max_bytes=10_000_000) > 0
