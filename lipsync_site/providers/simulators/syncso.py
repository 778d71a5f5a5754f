"""A loopback server that speaks Sync Labs' generate API (``/v2``) and its signed webhooks.

- ``POST /v2/generate`` (``x-api-key``): validates the body (model, one video and one audio
  input, ``options``), honours ``Idempotency-Key`` (1-128 of ``[A-Za-z0-9._~-]``; the same
  key and body return the first generation and start nothing; the same key with another
  body is refused), enforces 60 generate calls a minute (429 with ``Retry-After``) and an
  optional number of concurrent generations.
- A generation runs on its own clock, whether or not anyone polls (as the real service
  does): PENDING, then PROCESSING while it fetches the inputs and renders, then COMPLETED
  with ``outputUrl`` and ``outputDuration``, or FAILED/REJECTED with ``error`` and
  ``error_code``. ``GET /v2/generate/{id}`` reads it; ``POST /v2/generate/{id}/cancel``
  cancels a pending one.
- When it finishes and a ``webhookUrl`` was given, the generation (the GET answer) is
  POSTed there, signed ``Sync-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "t.body">`` with
  ``webhook_secret``; a delivery answered other than 2xx (or not at all) is retried with
  backoff, up to ``webhook_attempts``. ``deliveries`` records every attempt (with the backoff ``waited`` before it).

Dialects: ``webhook_body`` compact JSON (signed as sent) or indented (signed over its
compact form, as Sync's own verification examples re-serialise). ``failed_run`` with
``rejected=True`` ends REJECTED instead of FAILED. Webhook switches (``webhook_mode``):
``normal``, ``none`` (never sent: polling must settle), ``bad_signature``, ``stale``,
``duplicate`` (delivered twice).
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx

from lipsync_site.providers.simulators.common import (
    Answer,
    Fault,
    Route,
    SimulatorError,
    SimulatorServer,
    fetch_input,
    render_output,
)
from lipsync_site.providers.syncso import SIMULATOR_WEBHOOK_SECRET, sign_webhook

MODELS = {"lipsync-2", "lipsync-2-pro", "lipsync-1.9.0-beta", "sync-3"}
SYNC_MODES = {"cut_off", "loop", "bounce", "silence", "remap"}
KEY_PATTERN = re.compile(r"[A-Za-z0-9._~-]{1,128}\Z")


@dataclass
class SimulatedGeneration:
    id: str
    model: str
    body: dict
    faults: dict[str, dict]
    key: str = ""
    body_hash: str = ""
    created_at: float = field(default_factory=time.time)
    status: str = "PENDING"
    error: str = ""
    error_code: str = ""
    output: Path | None = None
    output_seconds: float | None = None
    done: threading.Event = field(default_factory=threading.Event)


class SyncSimulator(SimulatorServer):
    name = "syncso"
    DIALECTS = {"webhook_body": ("compact", "indented")}

    def __init__(
        self,
        *,
        api_key: str = "",
        webhook_secret: str = SIMULATOR_WEBHOOK_SECRET,
        generate_per_minute: int = 60,
        concurrency: int = 0,
        pending_seconds: float = 0.2,
        max_output_seconds: float = 2.0,
        webhook_attempts: int = 5,
        webhook_backoff: float = 0.5,
        webhook_mode: str = "normal",
        **kwargs,
    ):
        self.api_key = api_key  # empty: any key is accepted
        self.webhook_secret = webhook_secret
        self.generate_per_minute = generate_per_minute
        self.concurrency = concurrency  # 0: no limit
        self.pending_seconds = pending_seconds
        self.max_output_seconds = max_output_seconds
        self.webhook_attempts = webhook_attempts
        self.webhook_backoff = webhook_backoff
        self.webhook_mode = webhook_mode
        self.generations: dict[str, SimulatedGeneration] = {}
        self.keys: dict[str, str] = {}  # idempotency key -> generation id
        self.generate_calls: list[float] = []
        self.deliveries: list[dict] = []  # every webhook attempt: id, attempt, status, at
        super().__init__(**kwargs)

    def routes(self) -> list[Route]:
        return [
            Route("POST", r"/v2/generate", "submit", self.generate),
            Route("GET", r"/v2/generate/(?P<id>[^/]+)", "status", self.get_generation),
            Route("POST", r"/v2/generate/(?P<id>[^/]+)/cancel", "cancel", self.cancel),
            Route("GET", r"/files/(?P<id>[^/]+)/(?P<name>[^/]+)", "download", self.download),
        ]

    def reset_state(self) -> None:
        self.generations.clear()
        self.keys.clear()
        self.generate_calls.clear()
        self.deliveries.clear()

    def error_body(self, fault: Fault) -> dict:
        return {"message": fault.params.get("message", "simulated error"), "statusCode": 500}

    # --- helpers -----------------------------------------------------------------------------
    @staticmethod
    def _error(status: int, message: str, code: str = "") -> Answer:
        body = {"message": message, "statusCode": status}
        if code:
            body["code"] = code
        return Answer(status, body)

    def _authorized(self, request) -> Answer | None:
        key = request.headers.get("x-api-key", "")
        if not key or (self.api_key and key != self.api_key):
            return self._error(401, "Unauthorized")
        return None

    def _view(self, generation: SimulatedGeneration) -> dict:
        """The generation as GET /v2/generate/{id} answers it (and the webhook carries it)."""
        status = generation.status
        if status == "FAILED" and generation.error_code == "content_rejected":
            status = "REJECTED"  # sync-typescript-sdk's GenerationStatus names it
        view = {
            "id": generation.id,
            "createdAt": datetime.fromtimestamp(generation.created_at, UTC).isoformat().replace("+00:00", "Z"),
            "status": status,
            "model": generation.model,
            "input": generation.body.get("input", []),
            "options": generation.body.get("options") or {},
            "webhookUrl": generation.body.get("webhookUrl"),
            "outputUrl": None,
            "outputDuration": None,
            "error": None,
            "error_code": None,
        }
        if generation.status == "COMPLETED":
            base = self.base_url if "disallowed_host" not in generation.faults else "https://cdn.not-allowed.example"
            view["outputUrl"] = f"{base}/files/{generation.id}/output.mp4"
            view["outputDuration"] = generation.output_seconds
        if generation.status == "FAILED":
            view["error"] = generation.error
            view["error_code"] = generation.error_code
        return view

    def _active(self) -> int:
        return sum(1 for g in self.generations.values() if g.status in {"PENDING", "PROCESSING"})

    # --- endpoints -------------------------------------------------------------------------------
    def generate(self, request, match) -> Answer:
        if (problem := self._authorized(request)) is not None:
            return problem
        key_headers = request.handler.headers.get_all("Idempotency-Key") or []
        if len(key_headers) > 1 or (key_headers and not KEY_PATTERN.match(key_headers[0])):
            return self._error(400, "Idempotency-Key must be 1-128 of [A-Za-z0-9._~-]", "INVALID_IDEMPOTENCY_KEY")
        key = key_headers[0] if key_headers else ""
        body = request.json_body()
        if not isinstance(body, dict):
            return self._error(400, "a JSON object is required")
        body_hash = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
        with self.lock:
            if key and key in self.keys:
                first = self.generations[self.keys[key]]
                if first.body_hash != body_hash:
                    return self._error(409, "Idempotency-Key was used with another request", "IDEMPOTENCY_KEY_REUSED")
                return Answer(200, self._view(first), headers={"Idempotent-Replayed": "true"})
            now = time.time()
            self.generate_calls = [stamp for stamp in self.generate_calls if now - stamp < 60]
            if len(self.generate_calls) >= self.generate_per_minute:
                wait = int(self.generate_calls[0] + 60 - now) + 1
                return Answer(
                    429, {"message": "Too many requests", "statusCode": 429}, headers={"Retry-After": str(wait)}
                )
            self.generate_calls.append(now)
            if self.concurrency and self._active() >= self.concurrency:
                return self._error(429, "Concurrency limit reached for your plan")
        problem = self._invalid(body)
        if problem:
            return self._error(400, problem)
        generation = SimulatedGeneration(
            id=str(uuid.uuid4()),
            model=body["model"],
            body=body,
            faults=self.take_run_faults(),
            key=key,
            body_hash=body_hash,
        )
        with self.lock:
            self.generations[generation.id] = generation
            if key:
                self.keys[key] = generation.id
            self.submit_count += 1
        threading.Thread(
            target=self._work, args=(generation,), name=f"sync-gen-{generation.id[:8]}", daemon=True
        ).start()
        return Answer(201, self._view(generation))

    def _invalid(self, body: dict) -> str:
        if body.get("model") not in MODELS:
            return f"model must be one of {sorted(MODELS)}"
        inputs = body.get("input")
        if not isinstance(inputs, list):
            return "input must be an array"
        kinds = [item.get("type") for item in inputs if isinstance(item, dict) and item.get("url")]
        if kinds.count("video") != 1 or "audio" not in kinds:
            return "input must include one video input item and at least one audio input item"
        options = body.get("options") or {}
        if not isinstance(options, dict):
            return "options must be an object"
        if "sync_mode" in options and options["sync_mode"] not in SYNC_MODES:
            return f"options.sync_mode must be one of {sorted(SYNC_MODES)}"
        speaker = options.get("active_speaker_detection")
        if speaker is not None and not isinstance(speaker, dict):
            return "options.active_speaker_detection must be an object"
        url = body.get("webhookUrl")
        if url is not None and not str(url).startswith(("http://", "https://")):
            return "webhookUrl must be a URL"
        return ""

    def _work(self, generation: SimulatedGeneration) -> None:
        """PENDING -> PROCESSING -> COMPLETED/FAILED on its own clock, then the webhook."""
        workdir = self.workdir / generation.id
        workdir.mkdir(parents=True, exist_ok=True)
        time.sleep(self.pending_seconds)
        with self.lock:
            if generation.status != "PENDING":
                generation.done.set()
                return  # cancelled while pending
            generation.status = "PROCESSING"
        try:
            if self.step_delay:
                time.sleep(self.step_delay)
            if "never_finishes" in generation.faults:
                return
            if "failed_run" in generation.faults:
                params = generation.faults["failed_run"]
                raise SimulatorError(params.get("message", "No face was detected in the video."))
            inputs = {item["type"]: item["url"] for item in generation.body["input"]}
            video = fetch_input(inputs["video"], workdir / "video.bin")
            audio = fetch_input(inputs["audio"], workdir / "audio.bin")
            mode = (generation.body.get("options") or {}).get("sync_mode", "cut_off")
            generation.output = render_output(
                workdir, video=video, image=None, audio=audio, mode=mode, max_seconds=self.max_output_seconds
            )
            generation.output_seconds = _duration(generation.output)
            with self.lock:
                generation.status = "COMPLETED"
        except Exception as exc:  # the generation fails; the simulator keeps serving
            with self.lock:
                generation.status = "FAILED"
                generation.error = str(exc) or type(exc).__name__
                rejected = "failed_run" in generation.faults and generation.faults["failed_run"].get("rejected")
                generation.error_code = "content_rejected" if rejected else "generation_pipeline_failed"
        generation.done.set()
        if generation.body.get("webhookUrl"):
            self.deliver_webhook(generation)

    def get_generation(self, request, match) -> Answer:
        if (problem := self._authorized(request)) is not None:
            return problem
        with self.lock:
            generation = self.generations.get(match["id"])
            if generation is None:
                return self._error(404, "Generation not found")
            return Answer(200, self._view(generation))

    def cancel(self, request, match) -> Answer:
        if (problem := self._authorized(request)) is not None:
            return problem
        with self.lock:
            generation = self.generations.get(match["id"])
            if generation is None:
                return self._error(404, "Generation not found")
            if generation.status != "PENDING":
                return self._error(400, "Only pending generations can be cancelled")
            generation.status = "CANCELED"
            return Answer(200, self._view(generation))

    def download(self, request, match) -> Answer | None:
        with self.lock:
            generation = self.generations.get(match["id"])
        if generation is None or generation.output is None or match["name"] != "output.mp4":
            return Answer(404, {"message": "no such file"})
        self.serve_file(request, generation.output, generation.faults)
        return None

    # --- webhooks --------------------------------------------------------------------------------
    def deliver_webhook(self, generation: SimulatedGeneration) -> None:
        """POST the finished generation to its webhook URL, signed; retry until a 2xx."""
        if self.webhook_mode == "none":
            return
        url = generation.body["webhookUrl"]
        with self.lock:
            payload = self._view(generation)
        compact = json.dumps(payload, separators=(",", ":")).encode()
        body = compact if self.speak("webhook_body") == "compact" else json.dumps(payload, indent=2).encode()
        times = 2 if self.webhook_mode == "duplicate" else 1
        for _copy in range(times):
            self._deliver(generation.id, url, body, compact)

    def _deliver(self, generation_id: str, url: str, body: bytes, compact: bytes) -> None:
        delay, waited = self.webhook_backoff, 0.0
        for attempt in range(1, self.webhook_attempts + 1):
            timestamp = int(time.time()) - (3600 if self.webhook_mode == "stale" else 0)
            secret = self.webhook_secret if self.webhook_mode != "bad_signature" else "whsec_not_the_secret"
            # Signed over the compact JSON: what Sync's verification examples recompute.
            signature = sign_webhook(compact, secret=secret, timestamp=timestamp)
            record = {"id": generation_id, "attempt": attempt, "status": None, "at": time.time(), "waited": waited}
            try:
                with httpx.Client(timeout=10.0, trust_env=False, follow_redirects=False) as client:
                    response = client.post(
                        url,
                        content=body,
                        headers={"Content-Type": "application/json", "Sync-Signature": signature},
                    )
                record["status"] = response.status_code
            except httpx.HTTPError as exc:
                record["status"] = type(exc).__name__
            with self.lock:
                self.deliveries.append(record)
            if isinstance(record["status"], int) and 200 <= record["status"] < 300:
                return
            time.sleep(delay)
            delay, waited = delay * 2, delay

    def wait_for(self, generation_id: str, timeout: float = 20.0) -> SimulatedGeneration:
        generation = self.generations[generation_id]
        if not generation.done.wait(timeout):
            raise SimulatorError(f"generation {generation_id} did not finish in {timeout} s")
        return generation


def _duration(path: Path) -> float | None:
    import av

    with av.open(str(path)) as container:
        return container.duration / 1_000_000 if container.duration else None
