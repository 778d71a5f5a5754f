"""Secrets and link tokens never reach a page, an e-mail, an event row or a log whole.

Issue 10, point 9: a provider's error text was shown to the user, mailed and stored on the
event row as it came; a provider that echoes our key leaked it. The provider boundary now
masks every ProviderError and PollResult. And the signed tokens in providers' input links
appear in logs only as a prefix.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import pytest

from lipsync_site.providers import catalog
from lipsync_site.providers.base import (
    InputFile,
    InputRejected,
    PollResult,
    ProviderError,
    RequestState,
    SubmitInputs,
    SubmitOptions,
)
from lipsync_site.providers.registry import get_provider
from lipsync_site.providers.simulators.pytest_fixtures import *  # noqa: F403 (simulator fixtures)
from lipsync_site.redaction import redact_text, register_secret

RUNCOMFY_SECRET = "rc_live_ECHOED_0123456789abcdef"
SYNC_SECRET = "sk-sync-ECHOED-0123456789abcdef"
LINK_TOKEN = "eyJhIjoiMDEyMzQ1Njc4OWFiY2RlZiIsImciOjB9:1tQx7Z:" + "x" * 43
ROOT = Path(__file__).resolve().parents[1]


def media_inputs(media) -> SubmitInputs:
    return SubmitInputs(video=InputFile(url=media.url("video.mp4")), audio=InputFile(url=media.url("voice.wav")))


# --- the provider boundary --------------------------------------------------------------------------
def test_a_key_echoed_in_a_refusal_is_masked(settings, runcomfy_sim, provider_media):
    runcomfy_sim.api_key = RUNCOMFY_SECRET
    settings.RUNCOMFY_API_KEY = RUNCOMFY_SECRET
    settings.RUNCOMFY_BASE_URL = runcomfy_sim.base_url
    runcomfy_sim.inject(
        "server_error", endpoint="submit", status=400, error_code=400100, message=f"bad input for key {RUNCOMFY_SECRET}"
    )
    with pytest.raises(InputRejected) as caught:
        get_provider("runcomfy").submit(catalog.catalog_route("sync-v2"), media_inputs(provider_media), SubmitOptions())
    said = caught.value.message + str(caught.value) + repr(caught.value.payload)
    assert "bad input for key" in said  # the reason survives
    assert RUNCOMFY_SECRET not in said


def test_a_key_echoed_in_a_failure_reason_is_masked(settings, runcomfy_sim, provider_media):
    runcomfy_sim.api_key = RUNCOMFY_SECRET
    settings.RUNCOMFY_API_KEY = RUNCOMFY_SECRET
    settings.RUNCOMFY_BASE_URL = runcomfy_sim.base_url
    runcomfy_sim.inject("failed_run", message=f"worker crashed; Authorization: Bearer {RUNCOMFY_SECRET}")
    provider = get_provider("runcomfy")
    request_id = provider.submit(catalog.catalog_route("sync-v2"), media_inputs(provider_media), SubmitOptions())
    for _ in range(40):
        result = provider.poll(request_id)
        if result.state.is_terminal:
            break
        time.sleep(0.02)
    assert result.state == RequestState.FAILED
    assert "worker crashed" in result.message
    assert RUNCOMFY_SECRET not in result.message + repr(result.payload)


@pytest.mark.django_db
def test_a_sync_key_echoed_in_an_error_is_masked(settings, sync_sim, provider_media):
    settings.SYNC_API_KEY = SYNC_SECRET
    settings.SYNC_BASE_URL = sync_sim.base_url
    sync_sim.inject("server_error", endpoint="submit", status=400, message=f"x-api-key {SYNC_SECRET} lacks the scope")
    options = SubmitOptions(idempotency_key=str(uuid.uuid4()))
    with pytest.raises(InputRejected) as caught:
        get_provider("syncso").submit(catalog.catalog_route("sync-direct-2"), media_inputs(provider_media), options)
    assert "lacks the scope" in caught.value.message
    assert SYNC_SECRET not in caught.value.message


def test_a_token_obtained_at_run_time_is_masked_once_registered():
    token = "nmv_run_time_" + uuid.uuid4().hex
    assert token in redact_text(f"token {token} expired")
    register_secret(token)
    assert token not in ProviderError(f"session for {token} is gone").message


def test_poll_results_are_masked_at_construction(settings):
    settings.RUNCOMFY_API_KEY = RUNCOMFY_SECRET
    result = PollResult(RequestState.FAILED, message=f"key {RUNCOMFY_SECRET}", payload={"detail": RUNCOMFY_SECRET})
    assert RUNCOMFY_SECRET not in result.message + repr(result.payload)


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("Authorization: Bearer abcDEF123456789", "abcDEF123456789"),
        ('{"x-api-key": "sk-9f8e7d6c5b4a3210"}', "sk-9f8e7d6c5b4a3210"),
        ("retry with token=Zm9vYmFyYmF6cXV4", "Zm9vYmFyYmF6cXV4"),
        ("your token nmv_usr_KGdwtlGw3hBDUpV expired", "KGdwtlGw3hBDUpV"),
        ("signed with whsec_c2VjcmV0c2VjcmV0", "c2VjcmV0c2VjcmV0"),
        ("https://b.s3.amazonaws.com/o.mp4?X-Amz-Signature=deadbeefcafe&X-Amz-Date=1", "deadbeefcafe"),
        ("Sync-Signature: t=1700000000,v1=0123456789abcdef", "0123456789abcdef"),
    ],
)
def test_secret_shapes_are_masked_whatever_their_value(text, secret):
    assert secret not in redact_text(text)


def test_link_tokens_keep_a_prefix():
    line = f"GET /jobs/inputs/{LINK_TOKEN}/input.mp4 HTTP/1.1"
    cleaned = redact_text(line)
    assert LINK_TOKEN not in cleaned
    assert f"/jobs/inputs/{LINK_TOKEN[:8]}…/input.mp4" in cleaned


# --- logs: Django's "Not Found" warning and the development server's access line -----------------
def test_django_not_found_warning_shows_only_a_token_prefix(client, caplog):
    with caplog.at_level(logging.WARNING, logger="django.request"):
        response = client.get(f"/jobs/inputs/{LINK_TOKEN}/input.mp4")
    assert response.status_code == 404
    (record,) = [record for record in caplog.records if record.name == "django.request"]
    assert "Not Found" in record.getMessage()
    assert LINK_TOKEN not in record.getMessage() and LINK_TOKEN[:8] in record.getMessage()


def test_the_development_servers_access_line_shows_only_a_token_prefix(caplog):
    with caplog.at_level(logging.INFO, logger="django.server"):
        logging.getLogger("django.server").info(
            '"%s" %s %s', f"GET /jobs/inputs/{LINK_TOKEN}/input.mp4 HTTP/1.1", 404, 0
        )
    (record,) = [record for record in caplog.records if record.name == "django.server"]
    assert LINK_TOKEN not in record.getMessage() and LINK_TOKEN[:8] in record.getMessage()


# --- gunicorn's access log (gunicorn.conf.py swaps its logger) -------------------------------------
def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_gunicorns_access_log_shows_only_a_token_prefix(tmp_path):
    port = _free_port()
    log = tmp_path / "access.log"
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LIPSYNC_VAR_DIR": str(tmp_path),
        "DJANGO_ENV": "test",
        "DJANGO_SETTINGS_MODULE": "lipsync_site.settings",
    }
    gunicorn = Path(sys.executable).with_name("gunicorn")
    process = subprocess.Popen(
        [
            str(gunicorn),
            "lipsync_site.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
            "--access-logfile",
            str(log),
        ],
        cwd=ROOT,  # gunicorn reads ./gunicorn.conf.py
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/jobs/inputs/{LINK_TOKEN}/input.mp4", trust_env=False)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "gunicorn did not start"
                time.sleep(0.2)
        assert response.status_code == 404
        deadline = time.monotonic() + 10
        while not (log.exists() and "/jobs/inputs/" in log.read_text()):
            assert time.monotonic() < deadline, "nothing was logged"
            time.sleep(0.1)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=20)
    text = log.read_text()
    assert LINK_TOKEN not in text
    assert f"/jobs/inputs/{LINK_TOKEN[:8]}…/input.mp4" in text
