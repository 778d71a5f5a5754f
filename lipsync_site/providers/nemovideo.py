"""NemoVideo agent API adapter (seed 002; unverified beyond it, so every path is a constant).

The flow, split between ``submit`` and ``poll`` so no step is ever sent twice:

``submit`` (in the worker): token (``NEMO_TOKEN``, else a starter token kept in the
database so every process shares the account) -> session -> upload by URL -> the edit
message over SSE, read to its end (heartbeats; up to ``NEMO_SSE_DEADLINE_SECONDS``). The
edit is what costs credits, so once it is sent ``submit`` returns a request id whatever
happens to the stream: a stream that ends without text, drops or times out is settled by
``poll`` looking at the session state.

The request id is ``<session_id>:<render_id>:<unix time the edit was sent>``; the render
id is chosen here, before anything is rendered, so the id never has to change.

``poll`` (in the tracker): the render's status when it exists; otherwise the session
state: once the draft holds the edit, start the render under the chosen id (export is
free, and a repeated start with the same id is harmless); an edit that never shows up
within ``NEMO_EDIT_GRACE_SECONDS`` fails the request.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import httpx
from django.conf import settings

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

logger = logging.getLogger(__name__)

TOKEN_PATH = "/api/auth/anonymous-token"  # noqa: S105 (a path, not a secret)
SESSION_PATH = "/api/tasks/me/with-session/nemo_agent"
UPLOAD_PATH = "/api/upload-video/nemo_agent/me/{session_id}"
EDIT_PATH = "/run_sse"
STATE_PATH = "/api/state/nemo_agent/me/{session_id}/latest"
BALANCE_PATH = "/api/credits/balance/simple"
RENDER_PATH = "/api/render/proxy/lambda"
RENDER_STATUS_PATH = "/api/render/proxy/lambda/{render_id}"

CODE_TOKEN = 1001
CODE_SESSION = 1002
CODE_NO_CREDITS = 2001
CODE_UNSUPPORTED = 4001
CODE_TOO_LARGE = 4002
CODE_PLAN = 402
CODE_RATE_LIMIT = 429

FORMATS = "mp4, mov, avi, webm, mkv, jpg, png, gif, webp, mp3, wav, m4a, aac"

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


class NemoVideoProvider:
    name = "nemovideo"

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

    def _client(self, token: str | None = None, *, timeout: float | None = None) -> httpx.Client:
        headers = {"Accept": "application/json", **self._attribution()}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return http.make_client(base_url=self._base_url(), headers=headers, timeout=timeout)

    # --- tokens ---------------------------------------------------------------------------------
    def _token(self) -> str:
        if settings.NEMO_TOKEN:
            return settings.NEMO_TOKEN
        from lipsync_site.providers.models import ProviderCredential

        stored = ProviderCredential.objects.filter(provider=self._credential_name()).first()
        if stored is not None:
            return stored.token
        return self._new_starter_token()

    def _new_starter_token(self) -> str:
        """A starter token (100 credits, 7 days), stored for every process to share."""
        if settings.NEMO_TOKEN:
            raise AccountProblem("NemoVideo rejected NEMO_TOKEN (bad or expired); set a fresh token.")
        from lipsync_site.providers.models import ProviderCredential

        client_id = str(uuid.uuid4())
        with self._client() as client:
            answer = self._send(lambda c: c.post(TOKEN_PATH, headers={"X-Client-Id": client_id}), client, wait=True)
        token = (answer.get("data") or {}).get("token") if isinstance(answer.get("data"), dict) else None
        if not token or not isinstance(token, str):
            raise RetryableError("NemoVideo gave no starter token.", delay=60.0)
        ProviderCredential.objects.update_or_create(
            provider=self._credential_name(), defaults={"token": token, "client_id": client_id}
        )
        logger.info("nemovideo obtained a new starter token")
        return token

    def _authed(
        self, call: Callable[[httpx.Client], httpx.Response], *, wait: bool, timeout: float | None = None
    ) -> dict:
        """One API call with the current token; on 1001 a starter token is renewed once."""
        for attempt in range(2):
            token = self._token()
            with self._client(token, timeout=timeout) as client:
                try:
                    return self._send(call, client, wait=wait)
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
        render_id = f"render_{int(time.time() * 1000)}_{uuid.uuid4().hex[:8]}"
        for attempt in range(2):
            session_id = self._create_session(route)
            try:
                self._upload(session_id, [inputs.video.url, inputs.audio.url])
                sent_at = int(time.time())
                text = self._edit(session_id, message)
            except SessionLost:
                if attempt:
                    raise RetryableError("NemoVideo lost the session twice in a row.", delay=60.0) from None
                continue
            logger.info(
                "nemovideo edit sent session=%s render=%s text=%s", session_id, render_id, "yes" if text else "no"
            )
            return f"{session_id}:{render_id}:{sent_at}"
        raise AssertionError("unreachable")

    def poll(self, request_id: str) -> PollResult:
        session_id, render_id, sent_at = parse_request_id(request_id)
        render = self._render_status(render_id)
        if render is not None:
            return _render_poll_result(render)
        state = self._state(session_id)
        draft = state.get("draft") if isinstance(state, dict) else None
        if edit_applied(state):
            self._start_render(session_id, render_id, draft)
            return PollResult(RequestState.RUNNING, progress=0.5, payload={"step": "render started"})
        if time.time() - sent_at > settings.NEMO_EDIT_GRACE_SECONDS:
            return PollResult(
                RequestState.FAILED,
                message="The lip-sync edit produced no result on the timeline.",
                payload={"step": "edit missing"},
            )
        return PollResult(RequestState.RUNNING, progress=0.1, payload={"step": "editing"})

    def outputs(self, request_id: str) -> list[ProviderOutput]:
        _session_id, render_id, _sent_at = parse_request_id(request_id)
        render = self._render_status(render_id)
        if render is None or str(render.get("status", "")).lower() != "completed":
            return []
        url = (render.get("output") or {}).get("url") if isinstance(render.get("output"), dict) else None
        return [ProviderOutput(url=url, kind="video")] if isinstance(url, str) and url else []

    def cancel(self, request_id: str) -> bool:
        # The agent API has no cancel: the edit, once sent, runs to its end.
        parse_request_id(request_id)
        return False

    def download(self, output: ProviderOutput, destination: Path, *, max_bytes: int | None = None) -> int:
        cap = max_bytes if max_bytes is not None else settings.PROVIDER_DOWNLOAD_MAX_BYTES
        return http.download_to_path(
            output.url, destination, max_bytes=cap, allowed_suffixes=settings.NEMO_DOWNLOAD_HOSTS
        )

    def balance(self) -> dict:
        """The account's credits for the admin: available, frozen, total, simulated."""
        # A short timeout: the admin page waits for this answer.
        answer = self._authed(lambda c: c.get(BALANCE_PATH), wait=False, timeout=5.0)
        data = answer.get("data") if isinstance(answer.get("data"), dict) else {}
        return {
            "available": data.get("available"),
            "frozen": data.get("frozen"),
            "total": data.get("total"),
            "simulated": self.simulated,
        }

    # --- steps ------------------------------------------------------------------------------------
    def _create_session(self, route: Route) -> str:
        language = route.defaults.get("language", "en")
        answer = self._authed(
            lambda c: c.post(SESSION_PATH, json={"task_name": "lipsync", "language": language}), wait=True
        )
        data = answer.get("data") if isinstance(answer.get("data"), dict) else {}
        session_id = data.get("session_id")
        if not isinstance(session_id, str) or not session_id or ":" in session_id or "/" in session_id:
            raise RetryableError("NemoVideo created no usable session.", delay=60.0)
        return session_id

    def _upload(self, session_id: str, urls: list[str]) -> None:
        path = UPLOAD_PATH.format(session_id=session_id)
        self._authed(lambda c: c.post(path, json={"urls": urls, "source_type": "url"}), wait=True)

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
            with self._client(token, timeout=settings.NEMO_SSE_IDLE_SECONDS) as client:
                try:
                    with client.stream(
                        "POST", EDIT_PATH, json=body, headers={"Accept": "text/event-stream"}
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
                                logger.warning(
                                    "nemovideo edit answered HTTP %s; the state will tell", response.status_code
                                )
                                return ""
                            # Accepted without a stream: the state will show the edit.
                            return ""
                        return read_sse_text(response, deadline=deadline)
                except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
                    raise RetryableError(
                        f"NemoVideo could not be reached ({type(exc).__name__}).", delay=30.0
                    ) from None
                except httpx.TransportError as exc:
                    # The edit was sent: never resend it. Poll settles what happened.
                    logger.warning("nemovideo edit stream ended early (%s); the state will tell", type(exc).__name__)
                    return ""
        raise RetryableError("NemoVideo is rate limiting the edit.", delay=settings.NEMO_RATE_LIMIT_WAIT_SECONDS)

    def _state(self, session_id: str) -> dict:
        answer = self._authed(lambda c: c.get(STATE_PATH.format(session_id=session_id)), wait=False)
        data = answer.get("data") if isinstance(answer.get("data"), dict) else {}
        state = data.get("state")
        return state if isinstance(state, dict) else {}

    def _render_status(self, render_id: str) -> dict | None:
        def call(client: httpx.Client) -> httpx.Response:
            return client.get(RENDER_STATUS_PATH.format(render_id=render_id))

        try:
            answer = self._authed(call, wait=False)
        except SessionLost:
            raise
        except NotFound:
            return None  # not started yet
        data = answer.get("data")
        return data if isinstance(data, dict) else None

    def _start_render(self, session_id: str, render_id: str, draft) -> None:
        body = {
            "id": render_id,
            "sessionId": session_id,
            "draft": draft,
            "output": {"format": "mp4", "quality": "high"},
        }
        self._authed(lambda c: c.post(RENDER_PATH, json=body), wait=False)

    # --- answers ---------------------------------------------------------------------------------------
    def _send(self, call: Callable[[httpx.Client], httpx.Response], client: httpx.Client, *, wait: bool) -> dict:
        """Send, with one wait-and-retry on 429 when ``wait`` (the seed's advice)."""
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
        if isinstance(body, dict) and isinstance(body.get("message"), str):
            payload["message"] = body["message"][:200]
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
        if response.status_code >= 500 or code >= 500:
            raise RetryableError(
                f"NemoVideo answered an upstream fault ({code}).",
                delay=http.retry_after_seconds(response, 30.0),
                payload=payload,
            )
        if response.status_code in {401, 403}:
            raise AccountProblem(f"NemoVideo refused the account ({code}).", payload=payload)
        raise InputRejected(f"NemoVideo refused the request ({code}).", payload=payload)


class _RateLimitedOnce(Exception):
    pass


def _code(body, status: int) -> int:
    """The business code: the body's ``code`` when there is one, else the HTTP status."""
    if isinstance(body, dict) and "code" in body:
        try:
            return int(body["code"])
        except (TypeError, ValueError):
            return 500
    if body is None and status == 200:
        return 0  # the caller sees the unreadable body
    return 0 if status < 300 else status


def edit_message(mismatch_mode: str) -> str:
    return EDIT_MESSAGE.format(mismatch=MISMATCH_PHRASES.get(mismatch_mode, MISMATCH_PHRASES["cut_off"]))


def read_sse_text(response: httpx.Response, *, deadline: float) -> str:
    """The agent's text from an ADK-style SSE stream; heartbeats and tool events skipped.

    Error events that prove nothing was charged raise; running out of time returns what
    was read so far (the edit may still land: poll checks the state).
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
        if event.get("error") or event.get("code") not in (None, 0):
            _raise_for_stream_error(event)
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


def edit_applied(state: dict) -> bool:
    """Whether the session's draft holds a video track with content (the edit landed).

    Unverified against the real service; the seed's draft fields: t tracks, tt type
    (0 video), sg segments.
    """
    if not isinstance(state, dict):
        return False
    if state.get("generated_media"):
        return True
    draft = state.get("draft")
    tracks = draft.get("t") if isinstance(draft, dict) else None
    return any(isinstance(track, dict) and track.get("tt") == 0 and track.get("sg") for track in tracks or [])


def _render_poll_result(render: dict) -> PollResult:
    status = str(render.get("status", "")).lower()
    progress = render.get("progress")
    fraction = None
    if isinstance(progress, (int, float)):
        fraction = min(1.0, max(0.0, progress / 100 if progress > 1 else float(progress)))
    excerpt = {"render_status": status, "progress": progress}
    if status == "completed":
        return PollResult(RequestState.SUCCEEDED, progress=1.0, payload=excerpt)
    if status in {"failed", "error"}:
        reason = render.get("error") or render.get("message") or "the render failed"
        return PollResult(
            RequestState.FAILED, message=f"NemoVideo could not render the video: {str(reason)[:200]}", payload=excerpt
        )
    # The edit is done; the render is the last half of the work.
    return PollResult(RequestState.RUNNING, progress=0.5 + 0.5 * (fraction or 0.0), payload=excerpt)


def parse_request_id(request_id: str) -> tuple[str, str, int]:
    try:
        session_id, render_id, sent_at = request_id.rsplit(":", 2)
        if not session_id or "/" in session_id or not render_id.startswith("render_") or "/" in render_id:
            raise ValueError
        return session_id, render_id, int(sent_at)
    except (ValueError, AttributeError):
        raise NotFound(f"malformed NemoVideo request id {str(request_id)[:60]!r}") from None
