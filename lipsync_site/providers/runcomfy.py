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

_KINDS = {"video": "video", "videos": "video", "image": "image", "images": "image", "audio": "audio"}


class RunComfyProvider:
    name = "runcomfy"

    # --- configuration, read on every call so settings changes take effect ---------------------
    @property
    def simulated(self) -> bool:
        return not settings.RUNCOMFY_API_KEY

    def _base_url(self) -> str:
        return settings.RUNCOMFY_SIMULATOR_URL if self.simulated else settings.RUNCOMFY_BASE_URL

    def _client(self) -> httpx.Client:
        token = settings.RUNCOMFY_API_KEY or SIMULATOR_TOKEN
        return http.make_client(
            base_url=self._base_url(),
            headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
        )

    # --- the interface -------------------------------------------------------------------------
    def submit(self, route: Route, inputs: SubmitInputs, options: SubmitOptions) -> str:
        body = build_body(route, inputs, options)
        path = "/v1/models/" + quote(route.model_id, safe="/")
        with self._client() as client:
            try:
                response = client.post(path, json=body)
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
        value = str(status.get("status", "")).lower()
        if value == "in_queue":
            position = status.get("queue_position")
            return PollResult(
                RequestState.QUEUED,
                queue_position=position if isinstance(position, int) else None,
                payload=_excerpt(status),
            )
        if value == "in_progress":
            return PollResult(
                RequestState.RUNNING, progress=_fraction(status.get("progress")), payload=_excerpt(status)
            )
        if value == "cancelled":
            return PollResult(RequestState.CANCELLED, payload=_excerpt(status))
        if value in {"completed", "failed", "succeeded"}:
            result = self._get(f"/v1/requests/{_rid(request_id)}/result")
            outcome = str(result.get("status", "")).lower()
            if outcome == "succeeded":
                return PollResult(RequestState.SUCCEEDED, progress=1.0, payload=_excerpt(result))
            if outcome == "cancelled":
                return PollResult(RequestState.CANCELLED, payload=_excerpt(result))
            if outcome == "failed" or value == "failed":
                return PollResult(RequestState.FAILED, message=_failure_message(result), payload=_excerpt(result))
            # completed but the result is not there yet: poll again
            return PollResult(RequestState.RUNNING, payload=_excerpt(result))
        raise RetryableError(
            f"RunComfy answered an unknown status {value[:40]!r}.", delay=10.0, payload=_excerpt(status)
        )

    def outputs(self, request_id: str) -> list[ProviderOutput]:
        result = self._get(f"/v1/requests/{_rid(request_id)}/result")
        if str(result.get("status", "")).lower() != "succeeded":
            return []
        return parse_outputs(result.get("output"))

    def cancel(self, request_id: str) -> bool:
        answer = self._call(lambda client: client.post(f"/v1/requests/{_rid(request_id)}/cancel"))
        return str(answer.get("outcome", "")).lower() == "cancelled"

    def download(self, output: ProviderOutput, destination: Path, *, max_bytes: int | None = None) -> int:
        cap = max_bytes if max_bytes is not None else settings.PROVIDER_DOWNLOAD_MAX_BYTES
        return http.download_to_path(
            output.url, destination, max_bytes=cap, allowed_suffixes=settings.RUNCOMFY_DOWNLOAD_HOSTS
        )

    # --- plumbing -------------------------------------------------------------------------------
    def _get(self, path: str) -> dict:
        return self._call(lambda client: client.get(path))

    def _call(self, send: Callable[[httpx.Client], httpx.Response]) -> dict:
        """A call that is safe to repeat: every transport failure is retryable."""
        with self._client() as client:
            try:
                response = send(client)
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

        The error body is checked on every status, 200 included.
        """
        body = http.json_or_none(response)
        payload = _excerpt(body) if isinstance(body, dict) else {"http_status": response.status_code}
        code = _error_code(body)
        if code is not None:
            message = str(body.get("error_message") or body.get("detail") or "")[:300]
            if code in ACCOUNT_CODES:
                raise AccountProblem(ACCOUNT_CODES[code], payload=payload)
            if code in NOT_FOUND_CODES:
                raise NotFound("RunComfy does not know this request (unknown or expired).", payload=payload)
            if response.status_code == 429 or code // 1000 == 429:
                raise RetryableError(
                    "RunComfy is rate limiting us.", delay=http.retry_after_seconds(response, 30.0), payload=payload
                )
            if response.status_code >= 500 or code >= 500000:
                raise RetryableError(
                    f"RunComfy reported an upstream fault: {message}",
                    delay=http.retry_after_seconds(response, 30.0),
                    payload=payload,
                )
            if code // 1000 in {401, 403}:
                raise AccountProblem(f"RunComfy refused the account: {message}", payload=payload)
            raise InputRejected(f"RunComfy rejected the request: {message}", payload=payload)
        status = response.status_code
        if status == 429:
            raise RetryableError(
                "RunComfy is rate limiting us.", delay=http.retry_after_seconds(response, 30.0), payload=payload
            )
        if status >= 500:
            raise RetryableError(
                f"RunComfy answered HTTP {status}.", delay=http.retry_after_seconds(response, 30.0), payload=payload
            )
        if status in {401, 403}:
            raise AccountProblem("RunComfy refused the API token; check RUNCOMFY_API_KEY.", payload=payload)
        if status == 404:
            raise NotFound("RunComfy does not know this request.", payload=payload)
        if status == 422:
            raise InputRejected(_schema_message(body), payload=payload)
        if status >= 400:
            raise InputRejected(f"RunComfy rejected the request (HTTP {status}).", payload=payload)
        if status >= 300:
            # Redirects are never followed with a token attached.
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
    body = {
        "video_url": _url(inputs.video, "source video"),
        "text": text,
        "voice_id": options.extra.get("voice_id") or route.defaults.get("voice_id"),
    }
    language = options.extra.get("voice_language") or route.defaults.get("voice_language")
    if language:
        body["voice_language"] = language
    return body


def _omnihuman(route: Route, inputs: SubmitInputs, options: SubmitOptions) -> dict:
    return {"image_url": _url(inputs.image, "portrait"), "audio_url": _url(inputs.audio, "voice audio")}


def _spoken_prompt(inputs: SubmitInputs) -> str:
    """The scene prompt with the script quoted the way the seed advises."""
    prompt = (inputs.prompt or "").strip()
    text = (inputs.text or "").strip().replace('"', "'")
    if text:
        line = f'The person says clearly: "{text}"'
        prompt = f"{prompt} {line}".strip() if prompt else f"A person looking into the camera. {line}"
    if not prompt:
        raise InputRejected("This route needs a script or a scene description.")
    return prompt


def _generation_options(route: Route, options: SubmitOptions, *, names: tuple[str, ...]) -> dict:
    body = {}
    for name in names:
        value = options.extra.get(name, route.defaults.get(name))
        if value not in (None, ""):
            body[name] = value
    if route.output_seconds_range and "duration" in body:
        low, high = route.output_seconds_range
        body["duration"] = int(min(high, max(low, float(body["duration"]))))
    return body


def _wan_t2v(route: Route, inputs: SubmitInputs, options: SubmitOptions) -> dict:
    prompt = _spoken_prompt(inputs) if not inputs.audio else (inputs.prompt or inputs.text or "").strip()
    if not prompt:
        raise InputRejected("This route needs a scene description.")
    if route.max_text_chars and len(prompt) > route.max_text_chars:
        raise InputRejected(f"The prompt is {len(prompt)} characters; this route takes up to {route.max_text_chars}.")
    body = {"prompt": prompt}
    if inputs.audio is not None and inputs.audio.url:
        body["audio_url"] = inputs.audio.url
    body.update(
        _generation_options(route, options, names=("aspect_ratio", "resolution", "duration", "negative_prompt", "seed"))
    )
    return body


def _happyhorse(route: Route, inputs: SubmitInputs, options: SubmitOptions) -> dict:
    prompt = _spoken_prompt(inputs)
    if route.max_text_chars and len(prompt) > route.max_text_chars:
        raise InputRejected(f"The prompt is {len(prompt)} characters; this route takes up to {route.max_text_chars}.")
    body = {"prompt": prompt}
    if "image" in route.needs:
        body["image_url"] = _url(inputs.image, "portrait")
    body.update(_generation_options(route, options, names=("aspect_ratio", "resolution", "duration", "seed")))
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
    """Output URLs from a result's ``output`` object (values are URLs or lists of them)."""
    found: list[ProviderOutput] = []
    if isinstance(output, str):
        output = {"url": output}
    if not isinstance(output, dict):
        return found
    for key, value in output.items():
        values = value if isinstance(value, list) else [value]
        for item in values:
            if isinstance(item, dict):
                item = item.get("url")
            if isinstance(item, str) and item.startswith(("http://", "https://")):
                found.append(ProviderOutput(url=item, kind=_KINDS.get(key, _kind_from_url(item))))
    return found


def _kind_from_url(url: str) -> str:
    path = url.split("?")[0].lower()
    if path.endswith((".png", ".jpg", ".jpeg", ".webp", ".gif")):
        return "image"
    if path.endswith((".mp3", ".wav", ".m4a", ".aac")):
        return "audio"
    return "video"


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
        if isinstance(value, dict) and value.get("message"):
            return f"The provider could not make this video: {str(value['message'])[:300]}"
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
