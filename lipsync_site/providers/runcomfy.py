"""RunComfy Model API adapter (async queue): submit, status, result, cancel, download.

Without ``RUNCOMFY_API_KEY`` the same code talks to the loopback simulator at
``RUNCOMFY_SIMULATOR_URL``. The token travels only in the Authorization header of calls to
the API host: never on downloads (pre-signed), never in an exception message or payload.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

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

logger = logging.getLogger(__name__)

# The simulator accepts any bearer token; this one is no secret.
SIMULATOR_TOKEN = "simulator-token"  # noqa: S105

# RunComfy's error codes (PROVIDERS.md), onto the taxonomy.
ACCOUNT_CODES = {
    400001: "RunComfy does not know the route's model id; check the catalog.",
    400002: "The RunComfy account balance is empty; top it up.",
    400004: "RunComfy rejected the API token or the account; check RUNCOMFY_API_KEY.",
    403001: "The request belongs to another RunComfy account (was the API key changed?).",
}
NOT_FOUND_CODES = {404001}

# Every status word the official clients accept (README: which source says what). Status
# and result share the vocabulary; anything else keeps the request running, as the CLI does.
QUEUED_WORDS = {"in_queue", "pending", "waiting", "starting", "queued"}
RUNNING_WORDS = {"in_progress", "processing", "running"}
SUCCESS_WORDS = {"succeeded", "completed"}
CANCELLED_WORDS = {"cancelled", "canceled"}
FAILED_WORDS = {"failed"}
TERMINAL_WORDS = SUCCESS_WORDS | CANCELLED_WORDS | FAILED_WORDS

_KINDS = {"video": "video", "videos": "video", "image": "image", "images": "image", "audio": "audio"}


class RunComfyProvider:
    name = "runcomfy"
    # RunComfy documents no idempotency for POST /v1/models/{id}; its own ComfyUI client
    # says never to retry a paid POST. A submit with an unknown outcome is never resent.
    supports_idempotency_keys = False
    calls_per_minute = None

    # --- configuration, read on every call so settings changes take effect ---------------------
    @property
    def simulated(self) -> bool:
        return not settings.RUNCOMFY_API_KEY

    def _base_url(self) -> str:
        return settings.RUNCOMFY_SIMULATOR_URL if self.simulated else settings.RUNCOMFY_BASE_URL

    def _client(self) -> httpx.Client:
        return http.shared_client(self.name, base_url=self._base_url())

    def _headers(self) -> dict[str, str]:
        token = settings.RUNCOMFY_API_KEY or SIMULATOR_TOKEN
        return {"Authorization": f"Bearer {token}", "Accept": "application/json"}

    # --- the interface -------------------------------------------------------------------------
    def submit(self, route: Route, inputs: SubmitInputs, options: SubmitOptions) -> str:
        body = build_body(route, inputs, options)
        path = "/v1/models/" + quote(route.model_id, safe="/")
        try:
            response = self._client().post(path, json=body, headers=self._headers(), timeout=http.call_timeout())
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            # Never reached the service: safe to send again.
            raise RetryableError(f"RunComfy could not be reached ({type(exc).__name__}).", delay=10.0) from None
        except httpx.TransportError as exc:
            # Sent, but no answer (read timeout, dropped connection): it may have been queued.
            raise SubmissionUncertain(
                f"RunComfy did not answer the submission ({type(exc).__name__}); it may have been queued."
            ) from None
        answer = self._check(response, submitting=True)
        request_id = answer.get("request_id") if isinstance(answer, dict) else None
        if not request_id or not isinstance(request_id, str):
            raise SubmissionUncertain(
                "RunComfy accepted the submission without a request id.", payload=_excerpt(answer)
            )
        logger.info("runcomfy submitted route=%s request=%s", route.id, request_id)
        return request_id

    def poll(self, request_id: str) -> PollResult:
        status = self._get(f"/v1/requests/{_rid(request_id)}/status")
        value = _word(status)
        if value in QUEUED_WORDS:
            position = status.get("queue_position")
            return PollResult(
                RequestState.QUEUED,
                queue_position=position if isinstance(position, int) and not isinstance(position, bool) else None,
                payload=_excerpt(status),
            )
        if value in RUNNING_WORDS:
            return PollResult(
                RequestState.RUNNING, progress=_fraction(status.get("progress")), payload=_excerpt(status)
            )
        if value in TERMINAL_WORDS:
            return self._result_state(request_id, status_word=value)
        # A word no official client names: keep polling (the CLI does) and say so.
        logger.warning("runcomfy request %s answered an unknown status %r", request_id, value[:40])
        return PollResult(RequestState.RUNNING, payload={**_excerpt(status), "unknown_status": value[:40]})

    def _result_state(self, request_id: str, *, status_word: str) -> PollResult:
        result = self._get(f"/v1/requests/{_rid(request_id)}/result")
        outcome = _word(result)
        if outcome in SUCCESS_WORDS:
            return PollResult(RequestState.SUCCEEDED, progress=1.0, payload=_excerpt(result))
        if outcome in CANCELLED_WORDS:
            return PollResult(RequestState.CANCELLED, payload=_excerpt(result))
        if outcome in FAILED_WORDS:
            return PollResult(RequestState.FAILED, message=_failure_message(result), payload=_excerpt(result))
        if status_word in CANCELLED_WORDS:
            return PollResult(RequestState.CANCELLED, payload=_excerpt(result))
        if status_word in FAILED_WORDS:
            return PollResult(RequestState.FAILED, message=_failure_message(result), payload=_excerpt(result))
        # Terminal by its status, not yet by its result: read again on the next poll.
        return PollResult(RequestState.RUNNING, payload=_excerpt(result))

    def outputs(self, request_id: str) -> list[ProviderOutput]:
        result = self._get(f"/v1/requests/{_rid(request_id)}/result")
        if _word(result) not in SUCCESS_WORDS:
            return []
        return parse_outputs(result.get("output"))

    def cancel(self, request_id: str) -> bool:
        answer = self._call("POST", f"/v1/requests/{_rid(request_id)}/cancel")
        outcome = str(answer.get("outcome", "")).lower()
        if outcome:
            return outcome in CANCELLED_WORDS
        # The serverless dialect answers a status and no outcome (the CLI's cancel).
        return _word(answer) in CANCELLED_WORDS

    def download(self, output: ProviderOutput, destination: Path, *, max_bytes: int | None = None) -> int:
        cap = max_bytes if max_bytes is not None else settings.PROVIDER_DOWNLOAD_MAX_BYTES
        return http.download_to_path(
            output.url, destination, max_bytes=cap, allowed_suffixes=settings.RUNCOMFY_DOWNLOAD_HOSTS
        )

    # --- plumbing -------------------------------------------------------------------------------
    def _get(self, path: str) -> dict:
        return self._call("GET", path)

    def _call(self, method: str, path: str) -> dict:
        """A call that is safe to repeat: every transport failure is retryable."""
        try:
            response = self._client().request(method, path, headers=self._headers(), timeout=http.call_timeout())
        except httpx.TimeoutException as exc:
            raise RetryableError(f"RunComfy timed out ({type(exc).__name__}).", delay=10.0) from None
        except httpx.TransportError as exc:
            raise RetryableError(f"RunComfy connection failed ({type(exc).__name__}).", delay=10.0) from None
        answer = self._check(response, submitting=False)
        if not isinstance(answer, dict):
            raise RetryableError("RunComfy answered something other than a JSON object.", delay=10.0)
        return answer

    def _check(self, response: httpx.Response, *, submitting: bool) -> object:
        """Map an answer onto the taxonomy; return its JSON when it is a success.

        The error body is checked on every status, 200 included. On a submit, an answer
        that does not prove the request was refused (a gateway 5xx or 408, a redirect,
        unreadable JSON) is an unknown outcome: the run may have been queued and paid.
        """
        body = http.json_or_none(response)
        payload = _excerpt(body) if isinstance(body, dict) else {"http_status": response.status_code}
        status = response.status_code
        code = _error_code(body)
        if code is not None:
            message = str(body.get("error_message") or body.get("detail") or "")[:300]
            if code in ACCOUNT_CODES:
                raise AccountProblem(ACCOUNT_CODES[code], payload=payload)
            if code in NOT_FOUND_CODES:
                raise NotFound("RunComfy does not know this request (unknown or expired).", payload=payload)
            if status == 429 or code // 1000 == 429:
                raise RetryableError(
                    "RunComfy is rate limiting us.", delay=http.retry_after_seconds(response, 30.0), payload=payload
                )
            if status >= 500 or code >= 500000 or status == 408 or code // 1000 == 408:
                if submitting:
                    raise SubmissionUncertain(
                        f"RunComfy answered the submission with a fault ({message}); it may have been queued.",
                        payload=payload,
                    )
                raise RetryableError(
                    f"RunComfy reported an upstream fault: {message}",
                    delay=http.retry_after_seconds(response, 30.0),
                    payload=payload,
                )
            if code // 1000 == 402:
                raise AccountProblem("The RunComfy account balance is empty; top it up.", payload=payload)
            if code // 1000 in {401, 403}:
                raise AccountProblem(f"RunComfy refused the account: {message}", payload=payload)
            raise InputRejected(f"RunComfy rejected the request: {message}", payload=payload)
        if status == 429:
            raise RetryableError(
                "RunComfy is rate limiting us.", delay=http.retry_after_seconds(response, 30.0), payload=payload
            )
        if status >= 500 or status == 408:
            if submitting:
                # A gateway fault can hide an accepted, paid run: never resend (README).
                raise SubmissionUncertain(
                    f"RunComfy answered the submission with HTTP {status}; it may have been queued.", payload=payload
                )
            raise RetryableError(
                f"RunComfy answered HTTP {status}.", delay=http.retry_after_seconds(response, 30.0), payload=payload
            )
        if status in {401, 403}:
            raise AccountProblem("RunComfy refused the API token; check RUNCOMFY_API_KEY.", payload=payload)
        if status == 402:
            raise AccountProblem("The RunComfy account balance is empty; top it up.", payload=payload)
        if status == 404:
            if submitting:
                raise AccountProblem("RunComfy does not know the route's model id; check the catalog.", payload=payload)
            raise NotFound("RunComfy does not know this request.", payload=payload)
        if status in {400, 422}:
            raise InputRejected(_schema_message(body), payload=payload)
        if status >= 400:
            raise InputRejected(f"RunComfy rejected the request (HTTP {status}).", payload=payload)
        if status >= 300:
            # Redirects are never followed with a token attached.
            if submitting:
                raise SubmissionUncertain(
                    f"RunComfy answered the submission with a redirect (HTTP {status}).", payload=payload
                )
            raise RetryableError(f"RunComfy answered an unexpected redirect (HTTP {status}).", delay=60.0)
        if body is None:
            if submitting:
                raise SubmissionUncertain(
                    "RunComfy answered the submission with unreadable JSON; it may have been queued.", payload=payload
                )
            raise RetryableError("RunComfy answered unreadable JSON.", delay=10.0, payload=payload)
        return body


# --- body builders: the catalog names one per route (route.body) ---------------------------------
def _url(item, what: str) -> str:
    if item is None or not item.url:
        raise InputRejected(f"This route needs a {what}.")
    return item.url


def _sync(route: Route, inputs: SubmitInputs, options: SubmitOptions) -> dict:
    body = {"video_url": _url(inputs.video, "source video"), "audio_url": _url(inputs.audio, "voice audio")}
    if options.mismatch_mode in route.mismatch_modes:
        body["sync_mode"] = options.mismatch_mode
    return body


def _video_audio(route: Route, inputs: SubmitInputs, options: SubmitOptions) -> dict:
    return {"video_url": _url(inputs.video, "source video"), "audio_url": _url(inputs.audio, "voice audio")}


def _creatify(route: Route, inputs: SubmitInputs, options: SubmitOptions) -> dict:
    body = _video_audio(route, inputs, options)
    if options.mismatch_mode == "loop" and "loop" in route.mismatch_modes:
        body["loop"] = True
    return body


def _kling_text(route: Route, inputs: SubmitInputs, options: SubmitOptions) -> dict:
    text = (inputs.text or "").strip()
    if not text:
        raise InputRejected("This route needs a script to speak.")
    if route.max_text_chars and len(text) > route.max_text_chars:
        raise InputRejected(f"The script is {len(text)} characters; this route takes up to {route.max_text_chars}.")
    # The voice that speaks the script's language (the form only offers this route for a
    # language it speaks); an explicit voice in the job's options wins.
    voice = route.voices.get(options.extra.get("speech_language") or "", {})
    body = {
        "video_url": _url(inputs.video, "source video"),
        "text": text,
        "voice_id": options.extra.get("voice_id") or voice.get("voice_id") or route.defaults.get("voice_id"),
    }
    language = (
        options.extra.get("voice_language") or voice.get("voice_language") or route.defaults.get("voice_language")
    )
    if language:
        body["voice_language"] = language
    return body


def _omnihuman(route: Route, inputs: SubmitInputs, options: SubmitOptions) -> dict:
    return {"image_url": _url(inputs.image, "portrait"), "audio_url": _url(inputs.audio, "voice audio")}


def _spoken_prompt(inputs: SubmitInputs, language: str = "") -> str:
    """The scene prompt with the script quoted the way the seed advises; a Chinese script
    is asked for in Mandarin, in words the model reads in the script's own language."""
    prompt = (inputs.prompt or "").strip()
    text = (inputs.text or "").strip().replace('"', "'")
    if text and language == "zh":
        line = f"人物用普通话清晰地说：“{text}”"
        prompt = f"{prompt} {line}".strip() if prompt else f"一个人看着镜头。{line}"
    elif text:
        line = f'The person says clearly: "{text}"'
        prompt = f"{prompt} {line}".strip() if prompt else f"A person looking into the camera. {line}"
    if not prompt:
        raise InputRejected("This route needs a script or a scene description.")
    return prompt


def _generation_options(route: Route, options: SubmitOptions) -> dict:
    """The route's optional body fields (``route.body_options``), from the job's options or
    the catalog's defaults, in the spelling the model's schema documents."""
    body = {}
    for name in route.body_options:
        value = options.extra.get(name, route.defaults.get(name))
        if value in (None, ""):
            continue
        allowed = route.limits.get(_ENUM_LIMITS.get(name, ""), ())
        if allowed:
            spelled = {str(choice).lower(): choice for choice in allowed}.get(str(value).lower())
            if spelled is None:
                raise InputRejected(f"{route.label} takes {name.replace('_', ' ')} {', '.join(allowed)}; not {value}.")
            value = spelled
        body[name] = value
    if route.output_seconds_range and "duration" in body:
        low, high = route.output_seconds_range
        body["duration"] = int(min(high, max(low, float(body["duration"]))))
    return body


# Body fields whose values the catalog lists (route.limits key).
_ENUM_LIMITS = {"aspect_ratio": "aspect_ratios", "resolution": "resolutions"}


def _wan_t2v(route: Route, inputs: SubmitInputs, options: SubmitOptions) -> dict:
    language = options.extra.get("speech_language", "")
    prompt = _spoken_prompt(inputs, language) if not inputs.audio else (inputs.prompt or inputs.text or "").strip()
    if not prompt:
        raise InputRejected("This route needs a scene description.")
    if route.max_text_chars and len(prompt) > route.max_text_chars:
        raise InputRejected(f"The prompt is {len(prompt)} characters; this route takes up to {route.max_text_chars}.")
    body = {"prompt": prompt}
    if inputs.audio is not None and inputs.audio.url:
        body["audio_url"] = inputs.audio.url
    body.update(_generation_options(route, options))
    return body


def _happyhorse(route: Route, inputs: SubmitInputs, options: SubmitOptions) -> dict:
    prompt = _spoken_prompt(inputs, options.extra.get("speech_language", ""))
    if route.max_text_chars and len(prompt) > route.max_text_chars:
        raise InputRejected(f"The prompt is {len(prompt)} characters; this route takes up to {route.max_text_chars}.")
    body = {"prompt": prompt}
    if "image" in route.needs:
        body["image_url"] = _url(inputs.image, "portrait")
    body.update(_generation_options(route, options))
    return body


BODY_BUILDERS: dict[str, Callable[[Route, SubmitInputs, SubmitOptions], dict]] = {
    "sync": _sync,
    "video_audio": _video_audio,
    "creatify": _creatify,
    "kling_text": _kling_text,
    "omnihuman": _omnihuman,
    "wan_t2v": _wan_t2v,
    "happyhorse": _happyhorse,
}


def build_body(route: Route, inputs: SubmitInputs, options: SubmitOptions) -> dict:
    """The JSON input for ``route``'s model, from the catalog's body builder."""
    try:
        builder = BODY_BUILDERS[route.body]
    except KeyError:
        raise ProviderError(f"route {route.id!r} has no RunComfy body builder ({route.body!r})") from None
    return builder(route, inputs, options)


# --- answers ---------------------------------------------------------------------------------------
def parse_outputs(output) -> list[ProviderOutput]:
    """Every URL in a result's ``output``, in document order, once each.

    The CLI (``src/download.rs`` collect_urls) walks the whole object: values may be URL
    strings, lists of them, or objects holding them (``{"video": {"url": ...}}``). The kind
    comes from the nearest key that names one, else from the file name.
    """
    found: list[ProviderOutput] = []
    seen: set[str] = set()

    def walk(value, kind: str | None) -> None:
        if isinstance(value, str):
            if value.startswith(("http://", "https://")) and value not in seen:
                seen.add(value)
                found.append(ProviderOutput(url=value, kind=kind or _kind_from_url(value)))
        elif isinstance(value, list):
            for item in value:
                walk(item, kind)
        elif isinstance(value, dict):
            for key, item in value.items():
                walk(item, _KINDS.get(str(key).lower(), kind))

    walk(output, None)
    return found


def _kind_from_url(url: str) -> str:
    path = url.split("?")[0].lower()
    if path.endswith((".png", ".jpg", ".jpeg", ".webp", ".gif")):
        return "image"
    if path.endswith((".mp3", ".wav", ".m4a", ".aac")):
        return "audio"
    return "video"


def _word(answer: dict) -> str:
    return str(answer.get("status", "")).strip().lower()


def _error_code(body) -> int | None:
    if not isinstance(body, dict) or body.get("error_code") in (None, "", 0):
        return None
    try:
        return int(body["error_code"])
    except (TypeError, ValueError):
        return 500000


def _schema_message(body) -> str:
    detail = body.get("detail") if isinstance(body, dict) else None
    if isinstance(detail, list) and detail:
        parts = []
        for item in detail[:3]:
            if isinstance(item, dict):
                where = ".".join(str(part) for part in item.get("loc", [])[1:]) or "input"
                parts.append(f"{where}: {item.get('msg', 'invalid')}")
        if parts:
            return "The provider refused the inputs: " + "; ".join(parts) + "."
    if isinstance(detail, str) and detail:
        return f"The provider refused the inputs: {detail[:200]}"
    return "The provider refused the inputs (schema mismatch)."


def _failure_message(result: dict) -> str:
    for key in ("error", "error_message", "detail", "message"):
        value = result.get(key)
        if isinstance(value, str) and value:
            return f"The provider could not make this video: {value[:300]}"
        if isinstance(value, dict):
            text = value.get("message") or value.get("error_message") or value.get("detail")
            if text:
                return f"The provider could not make this video: {str(text)[:300]}"
    return "The provider could not make this video."


def _fraction(progress) -> float | None:
    """Progress as 0..1, whether the service says 0.4 or 40."""
    if not isinstance(progress, (int, float)) or isinstance(progress, bool):
        return None
    value = float(progress) / 100 if progress > 1 else float(progress)
    return min(1.0, max(0.0, value))


def _excerpt(body) -> dict:
    return http.without_url_queries(body) if isinstance(body, dict) else {}


def _rid(request_id: str) -> str:
    """Request ids go into paths: refuse anything that could change the path."""
    if not request_id or any(ch in request_id for ch in "/?#%\\") or request_id in {".", ".."}:
        raise NotFound(f"malformed RunComfy request id {request_id[:40]!r}")
    return request_id
