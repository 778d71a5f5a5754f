"""The NemoVideo adapter against the NemoVideo simulator, over real HTTP."""

from __future__ import annotations

import time

import av
import pytest

from lipsync_site.providers import routes
from lipsync_site.providers.base import (
    AccountProblem,
    InputFile,
    InputRejected,
    NotFound,
    OutputRejected,
    RequestState,
    RetryableError,
    SubmitInputs,
    SubmitOptions,
)
from lipsync_site.providers.models import ProviderCredential
from lipsync_site.providers.nemovideo import NemoVideoProvider, parse_request_id
from lipsync_site.providers.registry import get_provider

pytestmark = pytest.mark.django_db


def inputs(media, video="video.mp4", audio="voice.wav") -> SubmitInputs:
    return SubmitInputs(video=InputFile(url=media.url(video)), audio=InputFile(url=media.url(audio)))


def submit(media, **kwargs) -> str:
    return get_provider("nemovideo").submit(
        routes.get_route("nemovideo-lipsync"), inputs(media, **kwargs), SubmitOptions(mismatch_mode="cut_off")
    )


def poll_until_terminal(request_id, *, polls: int = 20):
    seen = []
    for _ in range(polls):
        result = get_provider("nemovideo").poll(request_id)
        seen.append(result)
        if result.state.is_terminal:
            break
    return seen[-1], seen


def test_happy_path_token_session_upload_edit_render_download(nemo_sim, provider_media, tmp_path):
    request_id = submit(provider_media)
    _session_id, render_id, _sent, before = parse_request_id(request_id)
    assert render_id.startswith("render_") and len(before) == 16

    final, seen = poll_until_terminal(request_id)
    assert final.state == RequestState.SUCCEEDED
    assert all(result.state == RequestState.RUNNING for result in seen[:-1])

    (output,) = get_provider("nemovideo").outputs(request_id)
    size = get_provider("nemovideo").download(output, tmp_path / "out.mp4", max_bytes=10_000_000)
    assert size > 0
    with av.open(str(tmp_path / "out.mp4")) as container:
        assert container.streams.video and container.streams.audio
    assert nemo_sim.submit_count == 1
    # the state before the edit, and the export check (a probe render), come before the paid edit
    assert [call["endpoint"] for call in nemo_sim.calls][:6] == [
        "token",
        "session",
        "upload",
        "state",
        "render",
        "edit",
    ]


def test_contract_paths_headers_and_bodies(nemo_sim, provider_media, settings):
    request_id = submit(provider_media)
    poll_until_terminal(request_id)
    session_id, render_id, _, _ = parse_request_id(request_id)
    calls = {call["endpoint"]: call for call in nemo_sim.calls}

    assert calls["token"]["path"] == "/api/auth/anonymous-token"
    assert calls["token"]["headers"]["X-Client-Id"]
    assert calls["session"]["path"] == "/api/tasks/me/with-session/nemo_agent"
    assert calls["session"]["body"] == {"task_name": "lipsync", "language": "en"}
    assert calls["upload"]["path"] == f"/api/upload-video/nemo_agent/me/{session_id}"
    assert calls["upload"]["body"] == {
        "urls": [provider_media.url("video.mp4"), provider_media.url("voice.wav")],
        "source_type": "url",
    }
    edit = calls["edit"]
    assert edit["path"] == "/run_sse"
    assert edit["headers"]["Accept"] == "text/event-stream"
    assert edit["body"]["app_name"] == "nemo_agent" and edit["body"]["user_id"] == "me"
    assert edit["body"]["session_id"] == session_id
    assert "Lip-sync" in edit["body"]["new_message"]["parts"][0]["text"]
    assert calls["state"]["path"] == f"/api/state/nemo_agent/me/{session_id}/latest"
    render = calls["render"]
    assert render["path"] == "/api/render/proxy/lambda"
    assert render["body"]["id"] == render_id and render["body"]["sessionId"] == session_id
    assert render["body"]["output"] == {"format": "mp4", "quality": "high"}
    assert render["body"]["draft"]["t"]
    assert calls["render_status"]["path"] == f"/api/render/proxy/lambda/{render_id}"
    token = ProviderCredential.objects.get(provider="nemovideo-sim").token
    for call in nemo_sim.calls:
        headers = call["headers"]
        assert headers["X-Skill-Source"] == settings.NEMO_SKILL_SOURCE
        assert headers["X-Skill-Version"] == settings.NEMO_SKILL_VERSION
        assert headers["X-Skill-Platform"] == settings.NEMO_SKILL_PLATFORM
        if call["endpoint"] != "token":
            assert headers["Authorization"] == f"Bearer {token}"


def test_starter_token_is_shared_through_the_database(nemo_sim, provider_media):
    submit(provider_media)
    NemoVideoProvider().balance()  # another instance, as in another process
    assert len(nemo_sim.calls_to("token")) == 1


def test_configured_token_is_used_and_no_starter_token_is_fetched(nemo_sim, provider_media, settings):
    nemo_sim.tokens["nemo-configured-token-123"] = {"credits": 50, "expired": False, "client_id": ""}
    settings.NEMO_TOKEN = "nemo-configured-token-123"
    settings.NEMO_BASE_URL = nemo_sim.base_url
    assert not routes.is_simulated(routes.get_route("nemovideo-lipsync"))
    request_id = submit(provider_media)
    assert poll_until_terminal(request_id)[0].state == RequestState.SUCCEEDED
    assert nemo_sim.calls_to("token") == []
    assert nemo_sim.calls_to("session")[0]["headers"]["Authorization"] == "Bearer nemo-configured-token-123"


def test_expired_starter_token_is_renewed_once(nemo_sim, provider_media):
    NemoVideoProvider().balance()
    nemo_sim.expire_tokens()
    request_id = submit(provider_media)
    assert len(nemo_sim.calls_to("token")) == 2
    assert poll_until_terminal(request_id)[0].state == RequestState.SUCCEEDED


def test_rejected_configured_token_is_an_account_problem(nemo_sim, provider_media, settings):
    settings.NEMO_TOKEN = "nemo-unknown-token-456"
    settings.NEMO_BASE_URL = nemo_sim.base_url
    with pytest.raises(AccountProblem, match="NEMO_TOKEN"):
        submit(provider_media)
    assert nemo_sim.calls_to("token") == []


def test_session_lost_during_upload_gets_a_new_session(nemo_sim, provider_media):
    nemo_sim.inject("error_200", endpoint="upload", code=1002)
    request_id = submit(provider_media)
    assert len(nemo_sim.calls_to("session")) == 2
    session_id, _, _, _ = parse_request_id(request_id)
    assert nemo_sim.calls_to("edit")[0]["body"]["session_id"] == session_id
    assert poll_until_terminal(request_id)[0].state == RequestState.SUCCEEDED


def test_session_lost_after_the_edit_is_not_found(nemo_sim, provider_media):
    request_id = submit(provider_media)
    nemo_sim.drop_sessions()
    with pytest.raises(NotFound):
        get_provider("nemovideo").poll(request_id)


def test_no_credits_is_an_account_problem(nemo_sim, provider_media):
    NemoVideoProvider().balance()
    nemo_sim.set_credits(0)
    with pytest.raises(AccountProblem, match="no credits"):
        submit(provider_media)
    assert nemo_sim.submit_count == 0


def test_unsupported_file_is_input_rejected_listing_formats(nemo_sim, provider_media):
    with pytest.raises(InputRejected, match="mp4, mov"):
        submit(provider_media, audio="voice.flac")


def test_file_too_large_is_input_rejected(nemo_sim, provider_media):
    nemo_sim.max_upload_bytes = 100
    with pytest.raises(InputRejected, match="too large"):
        submit(provider_media)


def test_rate_limit_is_retried_once_after_the_wait(nemo_sim, provider_media, settings):
    settings.NEMO_RATE_LIMIT_WAIT_SECONDS = 0.2
    nemo_sim.inject("rate_limit", endpoint="session")
    started = time.monotonic()
    request_id = submit(provider_media)
    assert time.monotonic() - started >= 0.2
    assert len(nemo_sim.calls_to("session")) == 2
    assert request_id


def test_rate_limit_twice_is_retryable_with_the_wait_as_delay(nemo_sim, provider_media, settings):
    settings.NEMO_RATE_LIMIT_WAIT_SECONDS = 0.05
    nemo_sim.inject("rate_limit", endpoint="session", count=2, retry_after="")
    with pytest.raises(RetryableError) as caught:
        submit(provider_media)
    assert caught.value.delay == pytest.approx(0.05)


def test_rate_limited_edit_is_resent_once_since_it_was_refused(nemo_sim, provider_media):
    nemo_sim.inject("rate_limit", endpoint="edit")
    request_id = submit(provider_media)
    assert len(nemo_sim.calls_to("edit")) == 2
    assert nemo_sim.submit_count == 1
    assert poll_until_terminal(request_id)[0].state == RequestState.SUCCEEDED


def test_edit_stream_without_text_is_settled_by_the_state(nemo_sim, provider_media):
    nemo_sim.sse_mode = "no_text"
    request_id = submit(provider_media)
    assert poll_until_terminal(request_id)[0].state == RequestState.SUCCEEDED


def test_edit_stream_dropped_after_sending_is_never_resent(nemo_sim, provider_media):
    nemo_sim.sse_mode = "drop_after_apply"
    request_id = submit(provider_media)
    assert len(nemo_sim.calls_to("edit")) == 1
    assert poll_until_terminal(request_id)[0].state == RequestState.SUCCEEDED


def test_edit_past_the_stream_deadline_still_returns_the_request(nemo_sim, provider_media, settings):
    nemo_sim.step_delay = 0.1
    nemo_sim.heartbeats = 3
    settings.NEMO_SSE_DEADLINE_SECONDS = 0.05
    request_id = submit(provider_media)
    assert len(nemo_sim.calls_to("edit")) == 1
    assert parse_request_id(request_id)


def test_edit_that_never_lands_fails_after_the_grace_period(nemo_sim, provider_media, settings):
    nemo_sim.inject("failed_run")
    request_id = submit(provider_media)
    assert get_provider("nemovideo").poll(request_id).state == RequestState.RUNNING
    settings.NEMO_EDIT_GRACE_SECONDS = -1
    final = get_provider("nemovideo").poll(request_id)
    assert final.state == RequestState.FAILED
    assert "no result" in final.message


def test_export_without_attribution_is_an_account_problem(nemo_sim, provider_media, settings):
    request_id = submit(provider_media)
    settings.NEMO_SKILL_SOURCE = ""
    with pytest.raises(AccountProblem, match="402"):
        get_provider("nemovideo").poll(request_id)


def test_render_that_never_finishes_stays_running(nemo_sim, provider_media):
    nemo_sim.inject("never_finishes")
    request_id = submit(provider_media)
    final, seen = poll_until_terminal(request_id, polls=6)
    assert final.state == RequestState.RUNNING and len(seen) == 6
    assert final.progress is not None and final.progress >= 0.5


@pytest.mark.parametrize(
    ("fault", "params"),
    [("server_error", {"status": 500}), ("slow", {"seconds": 2.0}), ("drop", {}), ("malformed_json", {})],
)
def test_poll_faults_are_retryable(fault, params, nemo_sim, provider_media, settings):
    request_id = submit(provider_media)  # at the usual timeout: a loaded machine is slow, not faulty
    usual = settings.PROVIDER_HTTP_TIMEOUT_SECONDS
    settings.PROVIDER_HTTP_TIMEOUT_SECONDS = 0.5  # well under the simulator's 2 s stall
    nemo_sim.inject(fault, endpoint="render_status", **params)
    with pytest.raises(RetryableError):
        get_provider("nemovideo").poll(request_id)
    settings.PROVIDER_HTTP_TIMEOUT_SECONDS = usual
    assert poll_until_terminal(request_id)[0].state == RequestState.SUCCEEDED


def test_starting_the_render_twice_is_harmless(nemo_sim, provider_media):
    request_id = submit(provider_media)
    provider = get_provider("nemovideo")
    session_id, render_id, _, _ = parse_request_id(request_id)
    # two trackers racing: both see "no render yet" and start it under the same id; the
    # second is refused as a duplicate id, which means it exists
    state = provider._state(session_id)
    provider._start_render(session_id, render_id, state["draft"])
    provider._start_render(session_id, render_id, state["draft"])
    assert render_id in nemo_sim.renders
    assert poll_until_terminal(request_id)[0].state == RequestState.SUCCEEDED


@pytest.mark.parametrize(
    ("fault", "error"),
    [("disallowed_host", OutputRejected), ("truncated_output", RetryableError), ("oversize_output", OutputRejected)],
)
def test_output_faults(fault, error, nemo_sim, provider_media, tmp_path):
    nemo_sim.inject(fault, bytes=3_000_000)
    request_id = submit(provider_media)
    assert poll_until_terminal(request_id)[0].state == RequestState.SUCCEEDED
    (output,) = get_provider("nemovideo").outputs(request_id)
    with pytest.raises(error):
        get_provider("nemovideo").download(output, tmp_path / "out.mp4", max_bytes=1_000_000)
    assert not (tmp_path / "out.mp4").exists()


def test_balance_for_the_admin(nemo_sim, provider_media):
    assert NemoVideoProvider().balance() == {"available": 100, "frozen": 0, "total": 100, "simulated": True}
    submit(provider_media)
    assert NemoVideoProvider().balance()["available"] == 90


def test_cancel_is_not_supported(nemo_sim, provider_media):
    request_id = submit(provider_media)
    assert get_provider("nemovideo").cancel(request_id) is False


def test_malformed_request_id_is_not_found(nemo_sim):
    with pytest.raises(NotFound):
        get_provider("nemovideo").poll("not-a-request")


def test_edit_answered_with_5xx_is_not_resent_and_fails_after_the_grace_period(nemo_sim, provider_media, settings):
    nemo_sim.inject("server_error", endpoint="edit", status=500)
    request_id = submit(provider_media)
    assert len(nemo_sim.calls_to("edit")) == 1
    assert get_provider("nemovideo").poll(request_id).state == RequestState.RUNNING
    settings.NEMO_EDIT_GRACE_SECONDS = -1
    assert get_provider("nemovideo").poll(request_id).state == RequestState.FAILED
