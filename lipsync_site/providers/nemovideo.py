"""NemoVideo agent API adapter (seed 002 and NemoVideo's own skills; every path a constant).

The flow, split between ``submit`` and ``poll`` so no paid step is ever sent twice:

``submit`` (in the worker): token (``NEMO_TOKEN``, else a starter token kept in the
database so every process shares the account, obtained under one persisted client id)
-> session -> upload by URL -> the session state before the edit (its fingerprint goes
into the request id) -> the export check (a free probe render: a token that cannot
export answers 402, and the job fails before anything is spent) -> the edit message over
SSE, read to its end (heartbeats; up to ``NEMO_SSE_DEADLINE_SECONDS``). The edit is what
costs credits, so once it is sent ``submit`` returns a request id whatever happens to the
stream: a stream that ends without text, drops or times out is settled by ``poll``.

The request id is ``<session_id>:<render base>:<unix time the edit was sent>:<state
fingerprint>``. Render attempt 1 uses the base as its id; a failed render is retried once
under a new id (``<base>_r2``), as NemoVideo's skill asks.

``poll`` (in the tracker): the latest render attempt's status when it exists; otherwise the
session state: once it differs from the state before the edit and holds a video track,
the edit has landed and the render starts (export is free); an edit that never shows up
within ``NEMO_EDIT_GRACE_SECONDS`` fails the request.

Answers come in several dialects (README: which source shows which): the ``{code, data}``
envelope, the ``{success, data}`` envelope, or none; the render's file at ``output.url``
or ``outputUrl``; SSE events ADK-style (``content.parts[].text``) or typed
(``{"type": "text", "content": ...}``). All are read.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import httpx
from django.conf import settings
from django.core.cache import cache

from lipsync_site.providers import http
from lipsync_site.providers.base import (
    AccountProblem,
    InputRejected,
    NotFound,
    PollResult,
    ProviderOutput,
    RequestState,
    RetryableError,
    SubmitInputs,
    SubmitOptions,
)
from lipsync_site.providers.catalog import Route
from lipsync_site.redaction import register_secret

logger = logging.getLogger(__name__)

TOKEN_PATH = "/api/auth/anonymous-token"  # noqa: S105 (a path, not a secret)
SESSION_PATH = "/api/tasks/me/with-session/nemo_agent"
UPLOAD_PATH = "/api/upload-video/nemo_agent/me/{session_id}"
EDIT_PATH = "/run_sse"
STATE_PATH = "/api/state/nemo_agent/me/{session_id}/latest"
BALANCE_PATH = "/api/credits/balance/simple"
RENDER_PATH = "/api/render/proxy/lambda"
RENDER_STATUS_PATH = "/api/render/proxy/lambda/{render_id}"
RENDER_CANCEL_PATH = "/api/render/proxy/lambda/{render_id}/cancel"
RENDER_DOWNLOAD_PATH = "/api/render/proxy/{render_id}/download"

CODE_TOKEN = 1001
CODE_SESSION = 1002
CODE_NO_CREDITS = 2001
CODE_UNSUPPORTED = 4001
CODE_TOO_LARGE = 4002
CODE_PLAN = 402
CODE_RATE_LIMIT = 429

# Render attempts per request: the first, and one retry under a new id (the skill's advice).
RENDER_ATTEMPTS = 2
RENDER_DONE = {"completed", "succeeded", "success", "done"}
RENDER_FAILED = {"failed", "error", "cancelled", "canceled"}

FORMATS = "mp4, mov, avi, webm, mkv, jpg, png, gif, webp, mp3, wav, m4a, aac"
CANNOT_EXPORT = (
    "This NemoVideo token cannot export (HTTP 402: an anonymous or free-plan account, a token without the "
    "render scope, or missing attribution headers). Nothing was spent: register or upgrade the NemoVideo "
    "account, or set NEMO_TOKEN to a token with the render scope."
)

MISMATCH_PHRASES = {
    "cut_off": "If the audio and the video differ in length, cut the longer one to the shorter.",
    "silence": "If the audio is shorter than the video, pad it with silence; if longer, hold the last frame.",
    "remap": "If the audio and the video differ in length, change the video's speed to match the audio.",
}
EDIT_MESSAGE = (
    "Lip-sync the person in the uploaded video to the uploaded audio track: regenerate only the mouth "
    "region so it follows the speech, keep the picture, framing and everything else unchanged, and "
    "replace the original sound with the uploaded audio. {mismatch} Put the result on the timeline."
)


class SessionLost(NotFound):
    """1002: the session is gone. ``submit`` starts a new one; elsewhere it is NotFound."""


class _TokenRejected(Exception):
    pass


class _RateLimitedOnce(Exception):
    pass


class NemoVideoProvider:
    name = "nemovideo"
    # The edit (the paid step) has no idempotency key: it is never resent.
    supports_idempotency_keys = False
    calls_per_minute = None

    # --- configuration ----------------------------------------------------------------------
    @property
    def simulated(self) -> bool:
        return not (settings.NEMO_TOKEN or settings.NEMO_ANONYMOUS)

    def _base_url(self) -> str:
        return settings.NEMO_SIMULATOR_URL if self.simulated else settings.NEMO_BASE_URL

    def _credential_name(self) -> str:
        return "nemovideo-sim" if self.simulated else "nemovideo"

    def _attribution(self) -> dict[str, str]:
        return {
            "X-Skill-Source": settings.NEMO_SKILL_SOURCE,
            "X-Skill-Version": settings.NEMO_SKILL_VERSION,
            "X-Skill-Platform": settings.NEMO_SKILL_PLATFORM,
        }

    def _headers(self, token: str | None = None) -> dict[str, str]:
        headers = {"Accept": "application/json", **self._attribution()}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return headers

    def _client(self) -> httpx.Client:
        return http.shared_client(self.name, base_url=self._base_url())

    # --- tokens ---------------------------------------------------------------------------------
    def _token(self) -> str:
        if settings.NEMO_TOKEN:
            return settings.NEMO_TOKEN
        from lipsync_site.providers.models import ProviderCredential

        stored = ProviderCredential.objects.filter(provider=self._credential_name()).first()
        if stored is not None and stored.token:
            register_secret(stored.token)
            return stored.token
        return self._new_starter_token()

    def _client_id(self) -> str:
        """One client id for this site, kept: the skill asks to persist ``X-Client-Id`` (the
        starter-token rate limit is per client; a new id per token soon hits the IP cap)."""
        if settings.NEMO_CLIENT_ID:
            return settings.NEMO_CLIENT_ID
        from lipsync_site.providers.models import ProviderCredential

        stored = ProviderCredential.objects.filter(provider=self._credential_name()).first()
        if stored is not None and stored.client_id:
            return stored.client_id
        client_id = str(uuid.uuid4())
        ProviderCredential.objects.update_or_create(
            provider=self._credential_name(),
            defaults={"client_id": client_id},
            create_defaults={"token": "", "client_id": client_id},
        )
        return client_id

    def _new_starter_token(self) -> str:
        """A starter token (100 credits), stored for every process to share."""
        if settings.NEMO_TOKEN:
            raise AccountProblem("NemoVideo rejected NEMO_TOKEN (bad or expired); set a fresh token.")
        from lipsync_site.providers.models import ProviderCredential

        client_id = self._client_id()
        answer = self._send(
            lambda client: client.post(
                TOKEN_PATH, headers={**self._headers(), "X-Client-Id": client_id}, timeout=http.call_timeout()
            ),
            wait=True,
        )
        data = _data(answer)
        token = data.get("token")
        if not token or not isinstance(token, str):
            raise RetryableError("NemoVideo gave no starter token.", delay=60.0)
        register_secret(token)
        ProviderCredential.objects.update_or_create(
            provider=self._credential_name(), defaults={"token": token, "client_id": client_id}
        )
        logger.info("nemovideo obtained a new starter token")
        return token

    def _authed(self, method: str, path: str, *, wait: bool, timeout: float | None = None, **kwargs) -> dict:
        """One API call with the current token; on 1001 a starter token is renewed once."""
        for attempt in range(2):
            token = self._token()
            try:
                return self._send(
                    lambda client, token=token: client.request(
                        method, path, headers=self._headers(token), timeout=http.call_timeout(timeout), **kwargs
                    ),
                    wait=wait,
                )
            except _TokenRejected:
                if attempt or settings.NEMO_TOKEN:
                    raise AccountProblem(
                        "NemoVideo rejected the token (bad or expired)"
                        + ("; set a fresh NEMO_TOKEN." if settings.NEMO_TOKEN else ".")
                    ) from None
                self._new_starter_token()
        raise AssertionError("unreachable")

    # --- the interface ---------------------------------------------------------------------------
    def submit(self, route: Route, inputs: SubmitInputs, options: SubmitOptions) -> str:
        if inputs.video is None or not inputs.video.url or inputs.audio is None or not inputs.audio.url:
            raise InputRejected("NemoVideo lip-sync needs a source video and a voice audio track.")
        message = edit_message(options.mismatch_mode)
        render_base = f"render_{int(time.time() * 1000)}_{uuid.uuid4().hex[:8]}"
        for attempt in range(2):
            session_id = self._create_session(route)
            try:
                self._upload(session_id, [inputs.video.url, inputs.audio.url])
                before = self._state(session_id)
                self._check_export_allowed(session_id, before.get("draft"))
                sent_at = int(time.time())
                text = self._edit(session_id, message)
            except SessionLost:
                if attempt:
                    raise RetryableError("NemoVideo lost the session twice in a row.", delay=60.0) from None
                continue
            logger.info(
                "nemovideo edit sent session=%s render=%s text=%s", session_id, render_base, "yes" if text else "no"
            )
            return f"{session_id}:{render_base}:{sent_at}:{state_fingerprint(before)}"
        raise AssertionError("unreachable")

    def poll(self, request_id: str) -> PollResult:
        session_id, render_base, sent_at, before = parse_request_id(request_id)
        attempt, render = self._latest_render(render_base)
        if render is not None:
            status = _render_status_word(render)
            if status in RENDER_FAILED and attempt < RENDER_ATTEMPTS:
                # The skill: a failed render is retried under a new id, once.
                self._start_render(session_id, render_id_for(render_base, attempt + 1))
                return PollResult(
                    RequestState.RUNNING, progress=0.5, payload={"step": "render retried", "attempt": attempt + 1}
                )
            return _render_poll_result(render, attempt)
        if attempt > 1:
            self._start_render(session_id, render_id_for(render_base, attempt))
            return PollResult(RequestState.RUNNING, progress=0.5, payload={"step": "render retried"})
        state = self._state(session_id)
        if edit_applied(state, before):
            self._start_render(session_id, render_id_for(render_base, 1), state.get("draft"))
            return PollResult(RequestState.RUNNING, progress=0.5, payload={"step": "render started"})
        if time.time() - sent_at > settings.NEMO_EDIT_GRACE_SECONDS:
            return PollResult(
                RequestState.FAILED,
                message="The lip-sync edit produced no result on the timeline.",
                payload={"step": "edit missing"},
            )
        return PollResult(RequestState.RUNNING, progress=0.1, payload={"step": "editing"})

    def outputs(self, request_id: str) -> list[ProviderOutput]:
        _session_id, render_base, _sent_at, _before = parse_request_id(request_id)
        attempt, render = self._latest_render(render_base)
        if render is None or _render_status_word(render) not in RENDER_DONE:
            return []
        render_id = render_id_for(render_base, attempt)
        fallback = self._base_url() + RENDER_DOWNLOAD_PATH.format(render_id=render_id)
        url = _render_output_url(render)
        if not url:
            # Completed without a URL: the authenticated download is the skill's fallback.
            return [ProviderOutput(url=fallback, kind="video")]
        return [ProviderOutput(url=url, kind="video", fallback_url=fallback)]

    def cancel(self, request_id: str) -> bool:
        # The agent API has no cancel for an edit: once sent, it runs to its end.
        parse_request_id(request_id)
        return False

    def download(self, output: ProviderOutput, destination: Path, *, max_bytes: int | None = None) -> int:
        cap = max_bytes if max_bytes is not None else settings.PROVIDER_DOWNLOAD_MAX_BYTES
        try:
            return self._download(output.url, destination, cap)
        except NotFound:
            if not output.fallback_url:
                raise
            logger.warning("nemovideo output link refused; using the render download fallback")
            return self._download(output.fallback_url, destination, cap)

    def _download(self, url: str, destination: Path, cap: int) -> int:
        return http.download_to_path(
            url,
            destination,
            max_bytes=cap,
            allowed_suffixes=settings.NEMO_DOWNLOAD_HOSTS,
            auth_headers=self._download_credentials,
        )

    def _download_credentials(self, url: str) -> dict[str, str]:
        """The token goes only to our own API host (the render download fallback)."""
        base = self._base_url()
        if url.startswith(base + "/api/render/proxy/"):
            return self._headers(self._token())
        return {}

    def balance(self) -> dict:
        """The account's credits for the admin: available, frozen, total, simulated."""
        # A short timeout: the admin page waits for this answer.
        data = _data(self._authed("GET", BALANCE_PATH, wait=False, timeout=5.0))
        return {
            "available": data.get("available"),
            "frozen": data.get("frozen"),
            "total": data.get("total"),
            "simulated": self.simulated,
        }

    # --- steps ------------------------------------------------------------------------------------
    def _create_session(self, route: Route) -> str:
        language = route.defaults.get("language", "en")
        answer = self._authed("POST", SESSION_PATH, wait=True, json={"task_name": "lipsync", "language": language})
        session_id = _data(answer).get("session_id")
        if not isinstance(session_id, str) or not session_id or ":" in session_id or "/" in session_id:
            raise RetryableError("NemoVideo created no usable session.", delay=60.0)
        return session_id

    def _upload(self, session_id: str, urls: list[str]) -> None:
        path = UPLOAD_PATH.format(session_id=session_id)
        self._authed("POST", path, wait=True, json={"urls": urls, "source_type": "url"})

    def _export_check_key(self) -> str:
        return "nemovideo-export:" + hashlib.sha256(self._token().encode()).hexdigest()[:32]

    def _check_export_allowed(self, session_id: str, draft) -> None:
        """Before the paid edit: can this token export at all? (A 402 at render time would
        otherwise come after the edit was charged.) A free probe render answers it; the
        answer is kept per token for ``NEMO_EXPORT_CHECK_SECONDS``."""
        key = self._export_check_key()
        known = cache.get(key)
        if known is True:
            return
        if known is False:
            raise AccountProblem(CANNOT_EXPORT)
        probe_id = f"render_probe_{int(time.time() * 1000)}_{uuid.uuid4().hex[:8]}"
        try:
            self._start_render(session_id, probe_id, draft if _has_tracks(draft) else {"t": []})
        except AccountProblem as exc:
            if exc.payload.get("code") == CODE_PLAN or exc.payload.get("http_status") == 402:
                cache.set(key, False, timeout=600)
                raise AccountProblem(CANNOT_EXPORT, payload=exc.payload) from None
            raise
        except InputRejected:
            # Past the plan check, refused for its (placeholder) draft: export is allowed.
            logger.info("nemovideo export probe refused its draft; the token may export")
            return
        cache.set(key, True, timeout=settings.NEMO_EXPORT_CHECK_SECONDS)
        try:
            self._authed("POST", RENDER_CANCEL_PATH.format(render_id=probe_id), wait=False)
        except (RetryableError, InputRejected, NotFound, AccountProblem):
            logger.info("nemovideo export probe %s could not be cancelled; it renders for free", probe_id)

    def _edit(self, session_id: str, message: str) -> str:
        """Send the edit and read the stream to its end; return the agent's text ('' if none).

        Raises only for answers that prove the edit was not accepted (an error code
        before the stream started, or a connection that never opened).
        """
        body = {
            "app_name": "nemo_agent",
            "user_id": "me",
            "session_id": session_id,
            "new_message": {"parts": [{"text": message}]},
        }
        deadline = time.monotonic() + settings.NEMO_SSE_DEADLINE_SECONDS
        for attempt in range(2):
            token = self._token()
            headers = {**self._headers(token), "Accept": "text/event-stream"}
            try:
                with self._client().stream(
                    "POST",
                    EDIT_PATH,
                    json=body,
                    headers=headers,
                    timeout=http.call_timeout(settings.NEMO_SSE_IDLE_SECONDS),
                ) as response:
                    if "text/event-stream" not in response.headers.get("content-type", ""):
                        response.read()
                        try:
                            self._check(response, wait=attempt == 0)
                        except _TokenRejected:
                            if attempt or settings.NEMO_TOKEN:
                                raise AccountProblem("NemoVideo rejected the token (bad or expired).") from None
                            self._new_starter_token()
                            continue
                        except _RateLimitedOnce:
                            time.sleep(settings.NEMO_RATE_LIMIT_WAIT_SECONDS)
                            continue
                        except RetryableError:
                            if response.status_code < 500:
                                raise
                            # An upstream fault after the agent got the edit: it may have run.
                            # Never resend; the state tells (or the grace period fails it).
                            logger.warning("nemovideo edit answered HTTP %s; the state will tell", response.status_code)
                            return ""
                        # Accepted without a stream: the state will show the edit.
                        return ""
                    return read_sse_text(response, deadline=deadline)
            except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
                raise RetryableError(f"NemoVideo could not be reached ({type(exc).__name__}).", delay=30.0) from None
            except httpx.TransportError as exc:
                # The edit was sent: never resend it. Poll settles what happened.
                logger.warning("nemovideo edit stream ended early (%s); the state will tell", type(exc).__name__)
                return ""
        raise RetryableError("NemoVideo is rate limiting the edit.", delay=settings.NEMO_RATE_LIMIT_WAIT_SECONDS)

    def _state(self, session_id: str) -> dict:
        state = _data(self._authed("GET", STATE_PATH.format(session_id=session_id), wait=False)).get("state")
        return state if isinstance(state, dict) else {}

    def _render_status(self, render_id: str) -> dict | None:
        """The render's answer, unwrapped from whichever envelope it came in; None when
        the render does not exist (not started yet)."""
        try:
            answer = self._authed("GET", RENDER_STATUS_PATH.format(render_id=render_id), wait=False)
        except SessionLost:
            raise
        except NotFound:
            return None
        render = _render_body(answer)
        return render if _render_status_word(render) else None

    def _latest_render(self, render_base: str) -> tuple[int, dict | None]:
        """(attempt, answer) of the newest render started for this request; (n, None) when
        attempt n is the next to start."""
        for attempt in range(1, RENDER_ATTEMPTS + 1):
            render = self._render_status(render_id_for(render_base, attempt))
            if render is None:
                return attempt, None
            if _render_status_word(render) not in RENDER_FAILED or attempt == RENDER_ATTEMPTS:
                return attempt, render
        raise AssertionError("unreachable")

    def _start_render(self, session_id: str, render_id: str, draft=None) -> None:
        if draft is None:
            draft = self._state(session_id).get("draft")
        body = {
            "id": render_id,
            "sessionId": session_id,
            "draft": draft,
            "output": {"format": "mp4", "quality": "high"},
        }
        try:
            self._authed("POST", RENDER_PATH, wait=False, json=body)
        except InputRejected as exc:
            if "duplicate" in exc.message.lower() or "exist" in exc.message.lower():
                return  # started already (two pollers raced): the same render
            raise
        except AccountProblem as exc:
            if exc.payload.get("code") == CODE_PLAN and not render_id.startswith("render_probe_"):
                # The plan changed since the export check: the next submit finds out at once.
                cache.set(self._export_check_key(), False, timeout=600)
            raise

    # --- answers ---------------------------------------------------------------------------------------
    def _send(self, call: Callable[[httpx.Client], httpx.Response], *, wait: bool) -> dict:
        """Send, with one wait-and-retry on 429 when ``wait`` (the seed's advice)."""
        client = self._client()
        for attempt in range(2):
            try:
                response = call(client)
            except httpx.TimeoutException as exc:
                raise RetryableError(f"NemoVideo timed out ({type(exc).__name__}).", delay=30.0) from None
            except httpx.TransportError as exc:
                raise RetryableError(f"NemoVideo connection failed ({type(exc).__name__}).", delay=30.0) from None
            try:
                return self._check(response, wait=wait and attempt == 0)
            except _RateLimitedOnce:
                time.sleep(settings.NEMO_RATE_LIMIT_WAIT_SECONDS)
        raise AssertionError("unreachable")

    def _check(self, response: httpx.Response, *, wait: bool) -> dict:
        body = http.json_or_none(response)
        code = _code(body, response.status_code)
        payload = {"http_status": response.status_code, "code": code}
        text = _error_text(body)
        if text:
            payload["message"] = text[:200]
        if code == 0:
            if not isinstance(body, dict):
                raise RetryableError("NemoVideo answered unreadable JSON.", delay=30.0, payload=payload)
            return body
        if code == CODE_RATE_LIMIT:
            if wait:
                raise _RateLimitedOnce
            raise RetryableError(
                "NemoVideo is rate limiting us.",
                delay=http.retry_after_seconds(response, settings.NEMO_RATE_LIMIT_WAIT_SECONDS),
                payload=payload,
            )
        if code == CODE_TOKEN:
            raise _TokenRejected
        if code == CODE_SESSION:
            raise SessionLost("NemoVideo no longer knows the session of this request.", payload=payload)
        if code == CODE_NO_CREDITS:
            raise AccountProblem("The NemoVideo account has no credits left; top it up.", payload=payload)
        if code == CODE_PLAN:
            raise AccountProblem(
                "NemoVideo's plan does not allow export (402): register or upgrade the account.", payload=payload
            )
        if code == CODE_UNSUPPORTED:
            raise InputRejected(f"NemoVideo does not take this file type. It takes {FORMATS}.", payload=payload)
        if code == CODE_TOO_LARGE:
            raise InputRejected("The file is too large for NemoVideo: compress or trim it.", payload=payload)
        if response.status_code == 404 or code == 404:
            raise NotFound("NemoVideo does not know this item.", payload=payload)
        if response.status_code >= 500 or code >= 500 or response.status_code == 408:
            raise RetryableError(
                f"NemoVideo answered an upstream fault ({code}).",
                delay=http.retry_after_seconds(response, 30.0),
                payload=payload,
            )
        if response.status_code in {401, 403}:
            raise AccountProblem(f"NemoVideo refused the account ({code}).", payload=payload)
        reason = f": {text[:120]}" if text else ""
        raise InputRejected(f"NemoVideo refused the request ({code}){reason}", payload=payload)


def _code(body, status: int) -> int:
    """The business code: the ``{code}`` envelope's, else the ``{success}`` envelope's (its
    HTTP status when false), else the HTTP status."""
    if isinstance(body, dict) and "code" in body:
        try:
            return int(body["code"])
        except (TypeError, ValueError):
            return 500
    if isinstance(body, dict) and isinstance(body.get("success"), bool):
        if body["success"]:
            return 0
        return status if status >= 400 else 500
    if body is None and status == 200:
        return 0  # the caller sees the unreadable body
    return 0 if status < 300 else status


def _error_text(body) -> str:
    if not isinstance(body, dict):
        return ""
    for key in ("message", "error", "msg"):
        value = body.get(key)
        if isinstance(value, str) and value and value.lower() != "ok":
            return value
        if isinstance(value, dict) and isinstance(value.get("message"), str):
            return value["message"]
    return ""


def _data(answer: dict) -> dict:
    data = answer.get("data") if isinstance(answer, dict) else None
    return data if isinstance(data, dict) else {}


def _render_body(answer: dict) -> dict:
    """The render object, whichever envelope it came in: ``{data: {...}}`` (the API
    reference), top-level (the skill), or top-level fields beside a ``data`` object."""
    data = _data(answer)
    if _render_status_word(data):
        return data
    return answer if isinstance(answer, dict) else {}


def _render_status_word(render: dict | None) -> str:
    if not isinstance(render, dict):
        return ""
    return str(render.get("status") or "").strip().lower()


def _render_output_url(render: dict) -> str:
    output = render.get("output")
    candidates = [
        output.get("url") if isinstance(output, dict) else output,
        render.get("outputUrl"),
        render.get("output_url"),
        render.get("url"),
    ]
    for candidate in candidates:
        if isinstance(candidate, str) and candidate.startswith(("http://", "https://")):
            return candidate
    return ""


def _has_tracks(draft) -> bool:
    tracks = draft.get("t") if isinstance(draft, dict) else None
    return any(isinstance(track, dict) and track.get("sg") for track in tracks or [])


def render_id_for(render_base: str, attempt: int) -> str:
    return render_base if attempt <= 1 else f"{render_base}_r{attempt}"


def edit_message(mismatch_mode: str) -> str:
    return EDIT_MESSAGE.format(mismatch=MISMATCH_PHRASES.get(mismatch_mode, MISMATCH_PHRASES["cut_off"]))


def read_sse_text(response: httpx.Response, *, deadline: float) -> str:
    """The agent's text from the SSE stream; heartbeats and tool events skipped.

    Two event dialects: ADK-style (``{"content": {"parts": [{"text": ...}]}}``, partial
    chunks marked ``partial``) and typed (``{"type": "text", "content": "..."}``,
    ``{"type": "heartbeat"}``, ``tool_call``, ``tool_result``, ``error``). Error events
    that prove nothing was charged raise; running out of time returns what was read so
    far (the edit may still land: poll checks the state).
    """
    texts: list[str] = []
    for line in response.iter_lines():
        if time.monotonic() > deadline:
            logger.warning("nemovideo edit stream passed its deadline; the state will tell")
            break
        if not line.startswith("data:"):
            continue  # comments (": heartbeat"), event names, blank separators
        data = line[5:].strip()
        if not data:
            continue  # heartbeat
        try:
            event = json.loads(data)
        except ValueError:
            continue
        if not isinstance(event, dict):
            continue
        kind = str(event.get("type") or "").lower()
        if kind == "error" or event.get("error") or event.get("code") not in (None, 0):
            _raise_for_stream_error(event)
            continue
        if kind == "text" and isinstance(event.get("content"), str):
            texts.append(event["content"])
            continue
        if kind in {"heartbeat", "tool_call", "tool_result", "tool", "thinking"}:
            continue
        content = event.get("content") if isinstance(event.get("content"), dict) else {}
        for part in content.get("parts") or []:
            if isinstance(part, dict) and isinstance(part.get("text"), str) and not event.get("partial"):
                texts.append(part["text"])
    return "\n".join(texts).strip()


def _raise_for_stream_error(event: dict) -> None:
    code = event.get("code")
    if code == CODE_NO_CREDITS:
        raise AccountProblem("The NemoVideo account has no credits left; top it up.")
    if code == CODE_UNSUPPORTED:
        raise InputRejected(f"NemoVideo does not take this file type. It takes {FORMATS}.")
    if code == CODE_TOO_LARGE:
        raise InputRejected("The file is too large for NemoVideo: compress or trim it.")
    logger.warning("nemovideo edit stream reported an error (code %s); the state will tell", code)


def state_fingerprint(state: dict) -> str:
    """What the edit changes: the timeline and the generated media. 16 hex characters."""
    if not isinstance(state, dict):
        state = {}
    material = {"draft": state.get("draft") or {}, "generated_media": state.get("generated_media") or []}
    return hashlib.sha256(json.dumps(material, sort_keys=True, default=str).encode()).hexdigest()[:16]


def edit_applied(state: dict, before: str | None = None) -> bool:
    """Whether the edit has landed: the session's timeline holds a video track with
    content, and (when the state before the edit is known) differs from it. The skill:
    "query state, compare with previous". Without the comparison an upload that puts the
    source video on the timeline would pass for the edit."""
    if not isinstance(state, dict):
        return False
    if before is not None and state_fingerprint(state) == before:
        return False
    if state.get("generated_media"):
        return True
    draft = state.get("draft")
    tracks = draft.get("t") if isinstance(draft, dict) else None
    return any(isinstance(track, dict) and track.get("tt") == 0 and track.get("sg") for track in tracks or [])


def _render_poll_result(render: dict, attempt: int) -> PollResult:
    status = _render_status_word(render)
    progress = render.get("progress")
    fraction = None
    if isinstance(progress, (int, float)) and not isinstance(progress, bool):
        fraction = min(1.0, max(0.0, progress / 100 if progress > 1 else float(progress)))
    excerpt = {"render_status": status, "progress": progress, "attempt": attempt}
    if status in RENDER_DONE:
        return PollResult(RequestState.SUCCEEDED, progress=1.0, payload=excerpt)
    if status in RENDER_FAILED:
        reason = render.get("error") or render.get("message") or "the render failed"
        return PollResult(
            RequestState.FAILED, message=f"NemoVideo could not render the video: {str(reason)[:200]}", payload=excerpt
        )
    # The edit is done; the render is the last half of the work.
    return PollResult(RequestState.RUNNING, progress=0.5 + 0.5 * (fraction or 0.0), payload=excerpt)


def parse_request_id(request_id: str) -> tuple[str, str, int, str | None]:
    """(session, render base, edit sent at, state fingerprint before the edit or None for
    ids made before the fingerprint existed)."""
    try:
        parts = str(request_id).split(":")
        if len(parts) == 3:
            session_id, render_base, sent_at = parts
            before = None
        elif len(parts) == 4:
            session_id, render_base, sent_at, before = parts
        else:
            raise ValueError
        if not session_id or "/" in session_id or not render_base.startswith("render_") or "/" in render_base:
            raise ValueError
        return session_id, render_base, int(sent_at), before or None
    except (ValueError, AttributeError):
        raise NotFound(f"malformed NemoVideo request id {str(request_id)[:60]!r}") from None
