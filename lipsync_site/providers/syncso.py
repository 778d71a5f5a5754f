"""Sync Labs direct (``https://api.sync.so/v2``): lipsync-2 and lipsync-2-pro without a middleman.

- ``POST /v2/generate`` with ``x-api-key`` and an ``Idempotency-Key`` derived from the job:
  Sync documents that a resent generate with the same key and body starts no second
  generation, so this is the one adapter whose uncertain submit (a gateway 5xx, a dropped
  answer) may be resent (``supports_idempotency_keys``).
- ``options``: ``sync_mode`` for the duration-mismatch modes, ``active_speaker_detection``
  (``{"auto_detect": true}``) for clips with several faces.
- Completion by signed webhook (``verify_webhook``: ``Sync-Signature: t=<unix>,v1=<hex
  HMAC-SHA256 of "t.payload">``, stale timestamps refused) when a webhook URL is given and
  a signing secret is known; polling ``GET /v2/generate/{id}`` is always the fallback.
- At most ``SYNC_GENERATE_PER_MINUTE`` generate calls a minute across every process
  (``providers.limits``); a 429 is obeyed too.

Without ``SYNC_API_KEY`` the same code talks to the loopback simulator, which signs its
webhooks with ``SIMULATOR_WEBHOOK_SECRET``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import time
from pathlib import Path

import httpx
from django.conf import settings

from lipsync_site.providers import http
from lipsync_site.providers.base import (
    AccountProblem,
    InputRejected,
    NotFound,
    PollResult,
    ProviderError,
    ProviderOutput,
    RequestState,
    RetryableError,
    SubmissionUncertain,
    SubmitInputs,
    SubmitOptions,
)
from lipsync_site.providers.catalog import Route
from lipsync_site.providers.limits import take_call

logger = logging.getLogger(__name__)

# The simulator accepts any key and signs its webhooks with this: neither is a secret.
SIMULATOR_API_KEY = "sync-simulator-key"
SIMULATOR_WEBHOOK_SECRET = "whsec_sync_simulator_not_a_secret"  # noqa: S105

GENERATE_PATH = "/v2/generate"
GENERATION_PATH = "/v2/generate/{id}"
CANCEL_PATH = "/v2/generate/{id}/cancel"

# Sync's statuses (sync-python-sdk GenerationStatus; sync-typescript-sdk adds REJECTED
# and CANCELED). Anything else keeps the request running.
QUEUED = {"PENDING", "QUEUED"}
RUNNING = {"PROCESSING", "RUNNING", "IN_PROGRESS"}
SUCCEEDED = {"COMPLETED", "SUCCEEDED"}
FAILED = {"FAILED", "REJECTED"}
CANCELLED = {"CANCELED", "CANCELLED"}

# Idempotency keys: 1-128 characters of [A-Za-z0-9._~-] (Sync's idempotency guide).
_KEY_CHARS = re.compile(r"[^A-Za-z0-9._~-]")
_SIGNATURE = re.compile(r"^\s*t=(\d+)\s*,\s*(.+)$")


class WebhookRejected(Exception):
    """A webhook whose signature is missing, wrong or stale: answer 400, act on nothing."""


class SyncProvider:
    name = "syncso"
    # Documented: the same Idempotency-Key and body never start a second generation.
    supports_idempotency_keys = True
    # Sync's rate-limit page: 60 requests a minute across all endpoints (polls included).
    calls_per_minute = 60

    # --- configuration, read on every call ---------------------------------------------------
    @property
    def simulated(self) -> bool:
        return not settings.SYNC_API_KEY

    def _base_url(self) -> str:
        return settings.SYNC_SIMULATOR_URL if self.simulated else settings.SYNC_BASE_URL

    def _client(self) -> httpx.Client:
        return http.shared_client(self.name, base_url=self._base_url())

    def _headers(self) -> dict[str, str]:
        return {"x-api-key": settings.SYNC_API_KEY or SIMULATOR_API_KEY, "Accept": "application/json"}

    def webhooks_enabled(self) -> bool:
        """Whether a webhook URL is sent: only when its signatures can be checked."""
        return bool(webhook_secret())

    # --- the interface -------------------------------------------------------------------------
    def submit(self, route: Route, inputs: SubmitInputs, options: SubmitOptions) -> str:
        body = build_body(route, inputs, options, webhooks=self.webhooks_enabled())
        key = idempotency_key(options.idempotency_key)
        wait = take_call(f"{self.name}:generate", per_minute=settings.SYNC_GENERATE_PER_MINUTE)
        if wait:
            # Nothing was sent: our own share of Sync's 60 generate calls a minute is used up.
            raise RetryableError("Sync's generate limit for this minute is reached.", delay=wait)
        headers = {**self._headers(), "Idempotency-Key": key}
        try:
            response = self._client().post(GENERATE_PATH, json=body, headers=headers, timeout=http.call_timeout())
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            raise RetryableError(f"Sync could not be reached ({type(exc).__name__}).", delay=10.0) from None
        except httpx.TransportError as exc:
            raise SubmissionUncertain(
                f"Sync did not answer the generation ({type(exc).__name__}); it is resent with the same key."
            ) from None
        answer = self._check(response, submitting=True)
        generation_id = answer.get("id")
        if not isinstance(generation_id, str) or not generation_id or "/" in generation_id:
            raise SubmissionUncertain("Sync accepted the generation without an id.", payload=_excerpt(answer))
        logger.info("syncso generation route=%s id=%s key=%s", route.id, generation_id, key)
        return generation_id

    def poll(self, request_id: str) -> PollResult:
        return result_from_generation(self._call("GET", GENERATION_PATH.format(id=_gid(request_id))))

    def outputs(self, request_id: str) -> list[ProviderOutput]:
        generation = self._call("GET", GENERATION_PATH.format(id=_gid(request_id)))
        url = generation.get("outputUrl") or generation.get("output_url")
        if _status(generation) not in SUCCEEDED or not isinstance(url, str) or not url:
            return []
        return [ProviderOutput(url=url, kind="video")]

    def cancel(self, request_id: str) -> bool:
        """Only a pending generation can be cancelled (at no cost)."""
        try:
            answer = self._call("POST", CANCEL_PATH.format(id=_gid(request_id)))
        except InputRejected:
            return False  # no longer pending
        return _status(answer) in CANCELLED or not _status(answer)

    def download(self, output: ProviderOutput, destination: Path, *, max_bytes: int | None = None) -> int:
        cap = max_bytes if max_bytes is not None else settings.PROVIDER_DOWNLOAD_MAX_BYTES
        return http.download_to_path(
            output.url, destination, max_bytes=cap, allowed_suffixes=settings.SYNC_DOWNLOAD_HOSTS
        )

    # --- plumbing -------------------------------------------------------------------------------
    def _call(self, method: str, path: str) -> dict:
        try:
            response = self._client().request(method, path, headers=self._headers(), timeout=http.call_timeout())
        except httpx.TimeoutException as exc:
            raise RetryableError(f"Sync timed out ({type(exc).__name__}).", delay=10.0) from None
        except httpx.TransportError as exc:
            raise RetryableError(f"Sync connection failed ({type(exc).__name__}).", delay=10.0) from None
        return self._check(response, submitting=False)

    def _check(self, response: httpx.Response, *, submitting: bool) -> dict:
        body = http.json_or_none(response)
        status = response.status_code
        payload = _excerpt(body) if isinstance(body, dict) else {"http_status": status}
        message = _message(body)
        if 200 <= status < 300:
            if not isinstance(body, dict):
                if submitting:
                    raise SubmissionUncertain("Sync answered the generation with unreadable JSON.", payload=payload)
                raise RetryableError("Sync answered unreadable JSON.", delay=10.0, payload=payload)
            return body
        if status == 429:
            raise RetryableError(
                "Sync is rate limiting us (or the plan's concurrent generations are in use).",
                delay=http.retry_after_seconds(response, 30.0),
                payload=payload,
            )
        if 400 <= status < 500 and "IDEMPOTENCY" in message.upper():
            # Our key is malformed or was reused for another body: a bug here, not the user's input.
            raise ProviderError(f"Sync refused the idempotency key: {message}", payload=payload)
        if status == 409:
            # The same key is still being processed: ask again later, with the same key.
            raise RetryableError("Sync is still processing this generation's first request.", delay=5.0)
        if status >= 500 or status == 408:
            if submitting:
                raise SubmissionUncertain(
                    f"Sync answered the generation with HTTP {status}; it is resent with the same key.",
                    payload=payload,
                )
            raise RetryableError(
                f"Sync answered HTTP {status}.", delay=http.retry_after_seconds(response, 30.0), payload=payload
            )
        if status in {401, 403}:
            raise AccountProblem("Sync refused the API key; check SYNC_API_KEY.", payload=payload)
        if status == 402:
            raise AccountProblem("The Sync account cannot pay for this generation (HTTP 402).", payload=payload)
        if status == 404:
            if submitting:
                raise AccountProblem("Sync does not know the route's model; check the catalog.", payload=payload)
            raise NotFound("Sync does not know this generation.", payload=payload)
        if status >= 400:
            reason = f": {message}" if message else f" (HTTP {status})"
            raise InputRejected(f"Sync refused the inputs{reason}", payload=payload)
        if submitting:
            raise SubmissionUncertain(f"Sync answered the generation with HTTP {status}.", payload=payload)
        raise RetryableError(f"Sync answered an unexpected HTTP {status}.", delay=30.0, payload=payload)


# --- bodies ---------------------------------------------------------------------------------------
def build_body(route: Route, inputs: SubmitInputs, options: SubmitOptions, *, webhooks: bool) -> dict:
    if inputs.video is None or not inputs.video.url or inputs.audio is None or not inputs.audio.url:
        raise InputRejected("Sync lip-sync needs a source video and a voice audio track.")
    generation_options: dict = {}
    if options.mismatch_mode in route.mismatch_modes:
        generation_options["sync_mode"] = options.mismatch_mode
    speaker = options.extra.get("active_speaker_detection", route.defaults.get("active_speaker_detection"))
    if speaker:
        generation_options["active_speaker_detection"] = {"auto_detect": True}
    temperature = options.extra.get("temperature", route.defaults.get("temperature"))
    if temperature is not None:
        generation_options["temperature"] = float(temperature)
    body = {
        "model": route.model_id,
        "input": [{"type": "video", "url": inputs.video.url}, {"type": "audio", "url": inputs.audio.url}],
    }
    if generation_options:
        body["options"] = generation_options
    if webhooks and options.webhook_url:
        body["webhookUrl"] = options.webhook_url
    return body


def idempotency_key(value: str) -> str:
    """Our stable key for one intended generation (the job), in the characters Sync takes."""
    cleaned = _KEY_CHARS.sub("-", value or "").strip("-")
    if not cleaned:
        raise ProviderError("a Sync generation needs an idempotency key (the job's id)")
    return ("lipsync-" + cleaned)[:128]


# --- answers --------------------------------------------------------------------------------------
def result_from_generation(generation: dict) -> PollResult:
    """A generation (a GET answer or a webhook payload) as a poll result."""
    status = _status(generation)
    excerpt = _excerpt(generation)
    if status in QUEUED:
        return PollResult(RequestState.QUEUED, payload=excerpt)
    if status in RUNNING:
        return PollResult(RequestState.RUNNING, payload=excerpt)
    if status in SUCCEEDED:
        return PollResult(RequestState.SUCCEEDED, progress=1.0, payload=excerpt)
    if status in CANCELLED:
        return PollResult(RequestState.CANCELLED, payload=excerpt)
    if status in FAILED:
        reason = generation.get("error") or generation.get("error_code") or "no reason given"
        if status == "REJECTED":
            return PollResult(
                RequestState.FAILED, message=f"Sync refused to make this video: {str(reason)[:300]}", payload=excerpt
            )
        return PollResult(
            RequestState.FAILED, message=f"Sync could not make this video: {str(reason)[:300]}", payload=excerpt
        )
    logger.warning("syncso generation answered an unknown status %r", status[:40])
    return PollResult(RequestState.RUNNING, payload={**excerpt, "unknown_status": status[:40]})


def _status(generation: dict) -> str:
    return str(generation.get("status") or "").strip().upper() if isinstance(generation, dict) else ""


def _message(body) -> str:
    if not isinstance(body, dict):
        return ""
    message = body.get("message") or body.get("error")
    if isinstance(message, list):
        message = "; ".join(str(item) for item in message[:3])
    code = body.get("code") or body.get("error_code")
    text = str(message or "")[:300]
    return f"{code}: {text}" if code and str(code) not in text else text


def _excerpt(body) -> dict:
    return http.without_url_queries(body) if isinstance(body, dict) else {}


def _gid(request_id: str) -> str:
    if not request_id or any(ch in request_id for ch in "/?#%\\") or request_id in {".", ".."}:
        raise NotFound(f"malformed Sync generation id {str(request_id)[:40]!r}")
    return request_id


# --- webhooks -------------------------------------------------------------------------------------
def webhook_secret() -> str:
    """The secret Sync signs webhooks with: ``SYNC_WEBHOOK_SECRET``; the simulator's fixed
    one only while the simulator stands in for Sync (no key, simulators allowed)."""
    if settings.SYNC_WEBHOOK_SECRET:
        return settings.SYNC_WEBHOOK_SECRET
    if not settings.SYNC_API_KEY and settings.PROVIDER_SIMULATORS:
        return SIMULATOR_WEBHOOK_SECRET
    return ""


def sign_webhook(body: bytes, *, secret: str, timestamp: int | None = None) -> str:
    """The ``Sync-Signature`` header for ``body`` (the simulator signs with this)."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify_webhook(body: bytes, signature: str, *, secret: str | None = None, now: float | None = None) -> dict:
    """The webhook's payload, once its ``Sync-Signature`` proves it came from Sync, recently.

    The signed message is ``"<t>.<payload>"``. Sync's examples compute it over the payload
    re-serialised as compact JSON (``JSON.stringify``, ``json.dumps(..., separators=(",",
    ":"))``); the raw body is tried first, then those spellings. Raises ``WebhookRejected``.
    """
    secret = webhook_secret() if secret is None else secret
    if not secret:
        raise WebhookRejected("no webhook signing secret is configured")
    match = _SIGNATURE.match(signature or "")
    if not match:
        raise WebhookRejected("missing or malformed Sync-Signature")
    timestamp = int(match.group(1))
    candidates = [part.strip()[3:] for part in match.group(2).split(",") if part.strip().startswith("v1=")]
    if not candidates:
        raise WebhookRejected("no v1 signature")
    now = time.time() if now is None else now
    if abs(now - timestamp) > settings.SYNC_WEBHOOK_TOLERANCE_SECONDS:
        raise WebhookRejected("stale signature timestamp")
    try:
        payload = json.loads(body)
    except ValueError:
        raise WebhookRejected("the body is not JSON") from None
    if not isinstance(payload, dict):
        raise WebhookRejected("the body is not a JSON object")
    spellings = [
        body,
        json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode(),
        json.dumps(payload, separators=(",", ":")).encode(),
    ]
    for spelling in spellings:
        expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + spelling, hashlib.sha256).hexdigest()
        if any(hmac.compare_digest(expected, candidate) for candidate in candidates):
            return payload
    raise WebhookRejected("signature mismatch")
