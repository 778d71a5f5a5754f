"""A loopback server that speaks RunComfy's Model API (async queue), per PROVIDERS.md.

``POST /v1/models/{model_id}`` validates the body against the model's fields, counts the
submit, fetches every ``*_url`` input in the background and renders an output clip from
them. Each status poll moves the request along: queued (with a falling queue position)
for ``queue_polls`` polls, then running until the render is done and ``running_polls``
polls have passed, then done; the result names the output URL on this server.

It speaks every dialect the official clients accept (``DIALECTS``; the README of
``providers/`` names the source of each): ``in_queue``/``pending``/``waiting``/
``starting`` while queued, ``in_progress``/``processing``/``running`` while running,
``completed`` or ``succeeded`` when done (in the status and in the result), ``cancelled``
or ``canceled``, the output as ``{"video": url}``, ``{"videos": [url]}``,
``{"video": {"url": url}}`` or nested deeper, a failure's ``error`` as text or object,
and a cancel answered with an ``outcome`` or (the serverless dialect) a status only.
"""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from lipsync_site.providers.simulators.common import (
    Answer,
    Fault,
    Route,
    SimulatorError,
    SimulatorServer,
    fetch_input,
    render_output,
)

# Required and optional body fields per model (the contract as far as it is known).
MODEL_FIELDS: dict[str, tuple[set[str], set[str]]] = {
    "sync/sync/lipsync/v2/pro": ({"video_url", "audio_url"}, {"sync_mode"}),
    "sync/sync/lipsync/v2": ({"video_url", "audio_url"}, {"sync_mode"}),
    "kling/kling/lipsync/audio-to-video": ({"video_url", "audio_url"}, set()),
    "kling/kling/lipsync/text-to-video": ({"video_url", "text", "voice_id"}, {"voice_language", "voice_speed"}),
    "creatify/lipsync": ({"video_url", "audio_url"}, {"loop"}),
    "bytedance/omnihuman/api": ({"image_url", "audio_url"}, set()),
    "wan-ai/wan-2-7/text-to-video": (
        {"prompt"},
        {"audio_url", "aspect_ratio", "resolution", "duration", "negative_prompt", "seed"},
    ),
    "happyhorse/happyhorse-1-0/text-to-video": (
        {"prompt"},
        {"aspect_ratio", "resolution", "duration", "seed", "watermark"},
    ),
    # No aspect_ratio: the output takes the image's aspect.
    "happyhorse/happyhorse-1-0/image-to-video": (
        {"prompt", "image_url"},
        {"resolution", "duration", "seed", "watermark"},
    ),
}

# Enumerated fields, per model, with the values the schemas list (exact spelling).
MODEL_ENUMS: dict[str, dict[str, set]] = {
    "wan-ai/wan-2-7/text-to-video": {
        "resolution": {"720p", "1080p"},
        "aspect_ratio": {"16:9", "9:16", "1:1", "4:3", "3:4"},
    },
    "happyhorse/happyhorse-1-0/text-to-video": {
        "resolution": {"720P", "1080P"},
        "aspect_ratio": {"16:9", "9:16", "1:1", "4:3", "3:4"},
    },
    "happyhorse/happyhorse-1-0/image-to-video": {"resolution": {"720P", "1080P"}},
}

ERROR_BODIES = {
    400001: "Model not found",
    400002: "Insufficient account balance",
    400004: "Invalid token or account",
    403001: "Request does not belong to this account",
    404001: "Request not found or expired",
}


@dataclass
class SimulatedRun:
    id: str
    model_id: str
    body: dict
    faults: dict[str, dict]
    created_at: float = field(default_factory=time.time)
    status: str = "in_queue"  # in_queue, in_progress, completed, cancelled (spoken in a dialect)
    outcome: str = ""  # succeeded, failed (once completed)
    error: str = ""
    polls: int = 0
    output: Path | None = None
    rendered: threading.Event = field(default_factory=threading.Event)
    finished_at: float | None = None


class RunComfySimulator(SimulatorServer):
    name = "runcomfy"
    DIALECTS = {
        "queued_word": ("in_queue", "pending", "waiting", "starting"),
        "running_word": ("in_progress", "processing", "running"),
        "done_word": ("completed", "succeeded"),  # the status endpoint, once finished
        "result_success": ("succeeded", "completed"),
        "cancel_word": ("cancelled", "canceled"),
        "output_shape": ("video", "videos", "video_object", "nested"),
        "failure_shape": ("text", "object"),
        "cancel_answer": ("outcome", "status_only"),
    }

    def __init__(
        self,
        *,
        api_key: str = "",
        queue_polls: int = 1,
        running_polls: int = 1,
        max_output_seconds: float = 2.0,
        **kwargs,
    ):
        self.api_key = api_key  # empty: any bearer token is accepted
        self.queue_polls = queue_polls
        self.running_polls = running_polls
        self.max_output_seconds = max_output_seconds
        self.runs: dict[str, SimulatedRun] = {}
        super().__init__(**kwargs)

    def routes(self) -> list[Route]:
        return [
            Route("POST", r"/v1/models/(?P<model_id>.+)", "submit", self.submit),
            Route("GET", r"/v1/requests/(?P<id>[^/]+)/status", "status", self.status),
            Route("GET", r"/v1/requests/(?P<id>[^/]+)/result", "result", self.result),
            Route("POST", r"/v1/requests/(?P<id>[^/]+)/cancel", "cancel", self.cancel),
            Route("GET", r"/files/(?P<id>[^/]+)/(?P<name>[^/]+)", "download", self.download),
        ]

    def reset_state(self) -> None:
        self.runs.clear()

    def error_body(self, fault: Fault) -> dict:
        code = int(fault.params.get("error_code", 500001))
        return {
            "error_code": code,
            "error_message": fault.params.get("message", ERROR_BODIES.get(code, "Upstream error")),
            "detail": fault.params.get("detail", "simulated"),
        }

    # --- helpers -----------------------------------------------------------------------------
    def _error(self, status: int, code: int, detail: str = "") -> Answer:
        return Answer(status, {"error_code": code, "error_message": ERROR_BODIES.get(code, "error"), "detail": detail})

    def _authorized(self, request) -> Answer | None:
        header = request.headers.get("Authorization", "")
        if not header.startswith("Bearer ") or not header[7:].strip():
            return self._error(401, 400004, "missing bearer token")
        if self.api_key and header[7:] != self.api_key:
            return self._error(401, 400004, "token rejected")
        return None

    def _run(self, run_id: str) -> SimulatedRun | None:
        with self.lock:
            return self.runs.get(run_id)

    def _urls(self, run_id: str) -> dict:
        base = f"{self.base_url}/v1/requests/{run_id}"
        return {"status_url": f"{base}/status", "result_url": f"{base}/result", "cancel_url": f"{base}/cancel"}

    # --- endpoints ------------------------------------------------------------------------------
    def submit(self, request, match) -> Answer:
        if (problem := self._authorized(request)) is not None:
            return problem
        model_id = match["model_id"]
        if model_id not in MODEL_FIELDS:
            return self._error(400, 400001, f"unknown model {model_id}")
        body = request.json_body()
        if not isinstance(body, dict):
            return Answer(422, {"detail": [{"loc": ["body"], "msg": "a JSON object is required"}]})
        required, optional = MODEL_FIELDS[model_id]
        problems = [
            {"loc": ["body", name], "msg": "field required", "type": "missing"} for name in sorted(required - set(body))
        ]
        problems += [
            {"loc": ["body", name], "msg": "extra fields not permitted", "type": "extra"}
            for name in sorted(set(body) - required - optional)
        ]
        for name, allowed in MODEL_ENUMS.get(model_id, {}).items():
            if name in body and body[name] not in allowed:
                problems.append({"loc": ["body", name], "msg": f"not one of {sorted(allowed)}", "type": "enum"})
        if model_id.startswith("kling/kling/lipsync/text") and len(str(body.get("text", ""))) > 120:
            problems.append({"loc": ["body", "text"], "msg": "text is longer than 120 characters"})
        if problems:
            return Answer(422, {"detail": problems})
        run = SimulatedRun(id=str(uuid.uuid4()), model_id=model_id, body=body, faults=self.take_run_faults())
        with self.lock:
            self.submit_count += 1
            self.runs[run.id] = run
        threading.Thread(target=self._work, args=(run,), name=f"runcomfy-run-{run.id[:8]}", daemon=True).start()
        return Answer(200, {"request_id": run.id, **self._urls(run.id)})

    def _work(self, run: SimulatedRun) -> None:
        """Fetch the inputs and render, as the real service does between queue and result."""
        workdir = self.workdir / run.id
        workdir.mkdir(parents=True, exist_ok=True)
        try:
            if self.step_delay:
                time.sleep(self.step_delay)
            if "failed_run" in run.faults:
                raise SimulatorError(run.faults["failed_run"].get("message", "The model could not find a face."))
            inputs: dict[str, Path] = {}
            for key in ("video_url", "image_url", "audio_url"):
                if run.body.get(key):
                    suffix = Path(str(run.body[key]).split("?")[0]).suffix or ".bin"
                    inputs[key] = fetch_input(str(run.body[key]), workdir / f"{key[:-4]}{suffix}")
            duration = run.body.get("duration")
            run.output = render_output(
                workdir,
                video=inputs.get("video_url"),
                image=inputs.get("image_url"),
                audio=inputs.get("audio_url"),
                seconds=float(duration) if duration is not None else None,
                mode=str(run.body.get("sync_mode") or ("loop" if run.body.get("loop") else "cut_off")),
                max_seconds=self.max_output_seconds,
            )
        except Exception as exc:  # the run fails; the simulator keeps serving
            run.error = str(exc) or type(exc).__name__
        finally:
            run.rendered.set()

    def _advance(self, run: SimulatedRun) -> None:
        with self.lock:
            run.polls += 1
            if run.status in {"completed", "cancelled"} or "never_finishes" in run.faults:
                if run.status == "in_queue" and run.polls > self.queue_polls:
                    run.status = "in_progress"
                return
            if run.status == "in_queue" and run.polls > self.queue_polls:
                run.status = "in_progress"
            if (
                run.status == "in_progress"
                and run.polls > self.queue_polls + self.running_polls
                and run.rendered.is_set()
            ):
                run.status = "completed"
                run.outcome = "failed" if run.error else "succeeded"
                run.finished_at = time.time()

    def status(self, request, match) -> Answer:
        if (problem := self._authorized(request)) is not None:
            return problem
        run = self._run(match["id"])
        if run is None:
            return self._error(404, 404001, "unknown request")
        self._advance(run)
        body = {"request_id": run.id, "status": self._spoken_status(run.status, done="done_word")}
        if run.status == "in_queue":
            body["queue_position"] = max(0, self.queue_polls - run.polls + 1)
        return Answer(200, body)

    def _spoken_status(self, status: str, *, done: str) -> str:
        if status == "in_queue":
            return self.speak("queued_word")
        if status == "in_progress":
            return self.speak("running_word")
        if status == "cancelled":
            return self.speak("cancel_word")
        if status in {"completed", "succeeded"}:
            return self.speak(done)
        return status

    def result(self, request, match) -> Answer:
        if (problem := self._authorized(request)) is not None:
            return problem
        run = self._run(match["id"])
        if run is None:
            return self._error(404, 404001, "unknown request")
        status = run.outcome if run.status == "completed" else run.status
        body = {
            "request_id": run.id,
            "status": self._spoken_status(status, done="result_success"),
            "created_at": run.created_at,
            "finished_at": run.finished_at,
        }
        if status == "succeeded":
            body["output"] = self._output(self.output_url(run.id, run.faults))
        elif status == "failed":
            if self.speak("failure_shape") == "object":
                body["error"] = {"message": run.error, "code": "generation_failed"}
            else:
                body["error"] = run.error
        return Answer(200, body)

    def _output(self, url: str) -> dict:
        shape = self.speak("output_shape")
        if shape == "videos":
            return {"videos": [url]}
        if shape == "video_object":
            return {"video": {"url": url, "content_type": "video/mp4"}}
        if shape == "nested":
            return {"result": {"files": [{"type": "video", "url": url}]}}
        return {"video": url}

    def cancel(self, request, match) -> Answer:
        if (problem := self._authorized(request)) is not None:
            return problem
        run = self._run(match["id"])
        if run is None:
            return self._error(404, 404001, "unknown request")
        with self.lock:
            if run.status == "in_queue":
                run.status = "cancelled"
                outcome = self.speak("cancel_word")
            else:
                outcome = "not_cancellable"
        status = self._spoken_status(run.status, done="done_word")
        if self.speak("cancel_answer") == "status_only":
            # The serverless dialect: a status and no outcome (the CLI reads both).
            return Answer(202, {"request_id": run.id, "status": status})
        return Answer(202, {"request_id": run.id, "status": status, "outcome": outcome})

    def download(self, request, match) -> Answer | None:
        run = self._run(match["id"])
        if run is None or run.output is None or match["name"] != run.output.name:
            return Answer(404, {"error": "no such file"})
        self.serve_file(request, run.output, run.faults)
        return None
