"""No provider token ever reaches a log line, an exception or payload (event rows), or a page."""

from __future__ import annotations

import json
import logging

import pytest

from lipsync_site.providers import routes
from lipsync_site.providers.base import InputFile, ProviderError, SubmitInputs, SubmitOptions
from lipsync_site.providers.models import ProviderCredential
from lipsync_site.providers.registry import get_provider

RUNCOMFY_SECRET = "rc_live_TOPSECRET_0123456789abcdef"
NEMO_SECRET = "nemo_live_TOPSECRET_9876543210fedcba"

pytestmark = pytest.mark.django_db


@pytest.fixture
def secret_keys(settings, runcomfy_sim, nemo_sim):
    runcomfy_sim.api_key = RUNCOMFY_SECRET
    settings.RUNCOMFY_API_KEY = RUNCOMFY_SECRET
    settings.RUNCOMFY_BASE_URL = runcomfy_sim.base_url
    nemo_sim.tokens[NEMO_SECRET] = {"credits": 100, "expired": False, "client_id": ""}
    settings.NEMO_TOKEN = NEMO_SECRET
    settings.NEMO_BASE_URL = nemo_sim.base_url
    settings.PROVIDER_HTTP_TIMEOUT_SECONDS = 1.0  # well under the 2.5 s stall, far above a loaded call


def everything_said(caplog, results, errors) -> str:
    parts = [caplog.text]
    parts += [record.getMessage() for record in caplog.records]
    parts += [json.dumps([str(result), result.payload, result.message], default=str) for result in results]
    parts += [json.dumps([str(error), error.message, error.payload], default=str) for error in errors]
    return "\n".join(parts)


def run_everything(runcomfy_sim, nemo_sim, media, tmp_path):
    """Happy paths and faults on both adapters; returns what they said."""
    results, errors = [], []

    def attempt(call):
        try:
            value = call()
        except ProviderError as exc:
            errors.append(exc)
            return None
        if hasattr(value, "payload"):
            results.append(value)
        return value

    runcomfy = get_provider("runcomfy")
    route = routes.get_route("sync-v2")
    inputs = SubmitInputs(video=InputFile(url=media.url("video.mp4")), audio=InputFile(url=media.url("voice.wav")))
    request_id = attempt(lambda: runcomfy.submit(route, inputs, SubmitOptions()))
    for _ in range(10):
        attempt(lambda: runcomfy.poll(request_id))
    for fault, params in [
        ("rate_limit", {}),
        ("server_error", {}),
        ("drop", {}),
        ("malformed_json", {}),
        ("error_200", {"error_code": 400004}),
        ("slow", {"seconds": 2.5}),
    ]:
        runcomfy_sim.inject(fault, **params)
        attempt(lambda: runcomfy.poll(request_id))
    runcomfy_sim.inject("error_200", endpoint="submit", error_code=400002)
    attempt(lambda: runcomfy.submit(route, inputs, SubmitOptions()))
    for output in runcomfy.outputs(request_id):
        attempt(lambda output=output: runcomfy.download(output, tmp_path / "rc.mp4", max_bytes=10_000_000))

    nemo = get_provider("nemovideo")
    nemo_route = routes.get_route("nemovideo-lipsync")
    nemo_id = attempt(lambda: nemo.submit(nemo_route, inputs, SubmitOptions()))
    for _ in range(6):
        attempt(lambda: nemo.poll(nemo_id))
    nemo_sim.inject("server_error", endpoint="render_status")
    attempt(lambda: nemo.poll(nemo_id))
    nemo_sim.expire_tokens()
    attempt(lambda: nemo.poll(nemo_id))
    attempt(nemo.balance)
    return results, errors


def test_no_token_in_logs_exceptions_or_payloads(secret_keys, runcomfy_sim, nemo_sim, provider_media, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    for name in ("httpx", "httpcore", "lipsync_site"):
        logging.getLogger(name).setLevel(logging.DEBUG)
    results, errors = run_everything(runcomfy_sim, nemo_sim, provider_media, tmp_path)

    # The run really exercised the token: the simulators saw it, and failures happened.
    assert runcomfy_sim.calls_to("submit")[0]["headers"]["Authorization"] == f"Bearer {RUNCOMFY_SECRET}"
    assert {type(error).__name__ for error in errors} >= {"RetryableError", "AccountProblem"}
    assert any(record.name.startswith("lipsync_site.providers") for record in caplog.records)
    said = everything_said(caplog, results, errors)
    assert RUNCOMFY_SECRET not in said
    assert NEMO_SECRET not in said
    assert "Bearer " not in said


def test_starter_token_never_appears_in_logs(settings, nemo_sim, provider_media, caplog):
    caplog.set_level(logging.DEBUG)
    inputs = SubmitInputs(
        video=InputFile(url=provider_media.url("video.mp4")), audio=InputFile(url=provider_media.url("voice.wav"))
    )
    request_id = get_provider("nemovideo").submit(routes.get_route("nemovideo-lipsync"), inputs, SubmitOptions())
    get_provider("nemovideo").poll(request_id)
    token = ProviderCredential.objects.get(provider="nemovideo-sim").token
    assert token not in caplog.text
    assert token not in request_id


def _importable(path: str) -> bool:
    from django.utils.module_loading import import_string

    try:
        import_string(path)
    except ImportError:
        return False
    return True


@pytest.fixture
def site_without_unmerged_parts(settings):
    """This branch may run before other apps' middleware and context processors exist."""
    settings.MIDDLEWARE = [path for path in settings.MIDDLEWARE if _importable(path)]
    templates = [dict(engine) for engine in settings.TEMPLATES]
    for engine in templates:
        options = dict(engine.get("OPTIONS", {}))
        options["context_processors"] = [p for p in options.get("context_processors", []) if _importable(p)]
        engine["OPTIONS"] = options
    settings.TEMPLATES = templates


def test_admin_page_shows_balance_but_no_token(
    site_without_unmerged_parts, nemo_sim, provider_media, client, django_user_model
):
    from django.contrib import admin

    from lipsync_site.providers.admin import RouteOverrideAdmin
    from lipsync_site.providers.models import RouteOverride

    # The stored credential has no admin page at all.
    assert ProviderCredential not in admin.site._registry
    assert isinstance(admin.site._registry[RouteOverride], RouteOverrideAdmin)

    boss = django_user_model.objects.create_superuser(
        username="boss", email="boss@example.com", password="pw-0123456789"
    )
    client.force_login(boss)
    response = client.get("/admin/providers/routeoverride/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "Credits available: <strong>100</strong>" in page
    assert "sync/sync/lipsync/v2/pro" in page and "(simulated)" in page
    token = ProviderCredential.objects.get(provider="nemovideo-sim").token
    assert token not in page
