"""A loopback server that speaks NemoVideo's agent API as seed 002 and NemoVideo's skills
describe it.

Starter token, session, upload by URL (fetched here, like the real service), the edit
message over SSE (the edit is applied to the session's draft and charged), state, credits,
render (free; a duplicate render id is refused, a cancel endpoint), render polling, the
rendered file on its own URL and through the authenticated download fallback.

Dialects (``DIALECTS``; the README of ``providers/`` names the source of each):

- ``render_envelope``: the render answer top-level (``{status, output: {url}}``, the
  skill), in the ``{code, data}`` envelope, or in ``{success, data}`` with ``outputUrl``
  (the API reference);
- ``render_running``: ``processing`` or ``pending`` while rendering;
- ``render_output``: the file's URL in the answer, or none (download through the fallback);
- ``sse_events``: ADK-style events (``content.parts[].text``) or typed ones
  (``{"type": "text", "content": ...}``, ``{"type": "heartbeat"}``, tool events);
- ``upload_draft``: the upload leaves the timeline empty, or puts the source video on it
  (so only a comparison with the state before the edit tells the edit has landed).

Switches: ``sse_mode`` ("text", "no_text", "drop_after_apply"), ``expire_tokens()``,
``drop_sessions()``, ``credits``, ``anonymous_can_export`` and ``set_export_allowed()``
(tokens that answer 402 at export: anonymous or free-plan, or without the render scope).
Per-run faults also: ``failed_render`` (the first render of the run fails; a new id
renders), ``expired_output`` (the output URL answers 403; the fallback serves the file).
"""

from __future__ import annotations

import json
import shutil
import socket
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

FORMATS = {"mp4", "mov", "avi", "webm", "mkv", "jpg", "png", "gif", "webp", "mp3", "wav", "m4a", "aac"}
VIDEO_FORMATS = {"mp4", "mov", "avi", "webm", "mkv"}
IMAGE_FORMATS = {"jpg", "png", "gif", "webp"}
ATTRIBUTION_HEADERS = ("X-Skill-Source", "X-Skill-Version", "X-Skill-Platform")
# Per-run faults of this simulator on top of the shared ones.
NEMO_RUN_FAULTS = {"failed_render", "expired_output"}


@dataclass
class SimulatedSession:
    id: str
    task_id: str
    token: str
    uploads: list[Path] = field(default_factory=list)
    draft: dict = field(default_factory=dict)
    generated: list[dict] = field(default_factory=list)
    edits: int = 0
    output: Path | None = None
    faults: dict[str, dict] = field(default_factory=dict)


@dataclass
class SimulatedRender:
    id: str
    session_id: str
    source: Path | None
    faults: dict[str, dict]
    polls: int = 0
    status: str = "pending"  # pending, processing, completed, failed, cancelled


class NemoVideoSimulator(SimulatorServer):
    name = "nemovideo"
    DIALECTS = {
        "render_envelope": ("top_level", "code_data", "success_data"),
        "render_running": ("processing", "pending"),
        "render_output": ("url", "none"),
        "sse_events": ("adk", "typed"),
        "upload_draft": ("empty", "source_on_timeline"),
    }

    def __init__(
        self,
        *,
        accept_token: str = "",
        credits: int = 100,
        edit_cost: int = 10,
        heartbeats: int = 2,
        render_polls: int = 1,
        max_upload_bytes: int = 500 * 1024 * 1024,
        max_output_seconds: float = 2.0,
        sse_mode: str = "text",
        anonymous_can_export: bool = True,
        **kwargs,
    ):
        self.accept_token = accept_token  # a configured NEMO_TOKEN the simulator honours
        self.starting_credits = credits
        self.edit_cost = edit_cost
        self.heartbeats = heartbeats
        self.render_polls = render_polls
        self.max_upload_bytes = max_upload_bytes
        self.max_output_seconds = max_output_seconds
        self.sse_mode = sse_mode
        # NemoVideo's skill: anonymous tokens have every scope. The account: free
        # and anonymous tokens answer 402 at export. Both are switchable.
        self.anonymous_can_export = anonymous_can_export
        self.tokens: dict[str, dict] = {}
        self.sessions: dict[str, SimulatedSession] = {}
        self.renders: dict[str, SimulatedRender] = {}
        self.client_ids: list[str] = []  # X-Client-Id of every starter token handed out
        super().__init__(**kwargs)
        if accept_token:
            self.add_token(accept_token, credits=credits)

    def routes(self) -> list[Route]:
        return [
            Route("POST", r"/api/auth/anonymous-token", "token", self.anonymous_token),
            Route("POST", r"/api/tasks/me/with-session/nemo_agent", "session", self.create_session),
            Route("POST", r"/api/upload-video/nemo_agent/me/(?P<sid>[^/]+)", "upload", self.upload),
            Route("POST", r"/run_sse", "edit", self.run_sse),
            Route("GET", r"/api/state/nemo_agent/me/(?P<sid>[^/]+)/latest", "state", self.state),
            Route("GET", r"/api/credits/balance/simple", "balance", self.balance),
            Route("POST", r"/api/render/proxy/lambda", "render", self.start_render),
            Route("GET", r"/api/render/proxy/lambda/(?P<rid>[^/]+)", "render_status", self.render_status),
            Route("POST", r"/api/render/proxy/lambda/(?P<rid>[^/]+)/cancel", "render_cancel", self.cancel_render),
            Route("GET", r"/api/render/proxy/(?P<rid>[^/]+)/download", "render_download", self.render_download),
            Route("GET", r"/files/(?P<id>[^/]+)/(?P<name>[^/]+)", "download", self.download),
        ]

    def reset_state(self) -> None:
        self.tokens = {k: v for k, v in self.tokens.items() if k == self.accept_token}
        self.sessions.clear()
        self.renders.clear()
        self.client_ids.clear()

    def error_body(self, fault: Fault) -> dict:
        code = int(
            fault.params.get("code", 2001 if fault.name == "error_200" else 429 if fault.name == "rate_limit" else 500)
        )
        return {"code": code, "message": fault.params.get("message", "simulated error"), "data": None}

    def inject(self, fault: str, *, count: int = 1, endpoint: str = "", **params) -> None:
        if fault in NEMO_RUN_FAULTS:
            with self.lock:
                self.faults.append(Fault(fault, count, endpoint, params))
            return
        super().inject(fault, count=count, endpoint=endpoint, **params)

    def take_run_faults(self) -> dict[str, dict]:
        taken = super().take_run_faults()
        with self.lock:
            for fault in list(self.faults):
                if fault.name in NEMO_RUN_FAULTS and fault.count > 0:
                    taken[fault.name] = fault.params
                    fault.count -= 1
                    if fault.count == 0:
                        self.faults.remove(fault)
        return taken

    # --- switches for tests ----------------------------------------------------------------------
    def add_token(self, token: str, *, credits: int = 100, can_export: bool = True) -> None:
        with self.lock:
            self.tokens[token] = {"credits": credits, "expired": False, "client_id": "", "can_export": can_export}

    def expire_tokens(self) -> None:
        with self.lock:
            for record in self.tokens.values():
                record["expired"] = True

    def drop_sessions(self) -> None:
        with self.lock:
            self.sessions.clear()

    def set_credits(self, available: int) -> None:
        with self.lock:
            for record in self.tokens.values():
                record["credits"] = available

    def set_export_allowed(self, allowed: bool) -> None:
        with self.lock:
            self.anonymous_can_export = allowed
            for record in self.tokens.values():
                record["can_export"] = allowed

    # --- helpers ---------------------------------------------------------------------------------
    @staticmethod
    def _fail(code: int, message: str, status: int = 200) -> Answer:
        return Answer(status, {"code": code, "message": message, "data": None})

    @staticmethod
    def _ok(data) -> Answer:
        return Answer(200, {"code": 0, "message": "ok", "data": data})

    def _token(self, request) -> tuple[str, Answer | None]:
        header = request.headers.get("Authorization", "")
        token = header[7:] if header.startswith("Bearer ") else ""
        with self.lock:
            record = self.tokens.get(token)
        if record is None or record["expired"]:
            return token, self._fail(1001, "token invalid or expired", 401)
        return token, None

    def _session(self, sid: str, token: str) -> SimulatedSession | None:
        with self.lock:
            session = self.sessions.get(sid)
        return session if session is not None and session.token == token else None

    def _render_answer(self, data: dict, *, status: int = 200) -> Answer:
        """A render answer in this request's envelope."""
        envelope = self.speak("render_envelope")
        if envelope == "code_data":
            return Answer(status, {"code": 0, "message": "ok", "data": data})
        if envelope == "success_data":
            data = dict(data)
            output = data.pop("output", None)
            if isinstance(output, dict) and output.get("url"):
                data["outputUrl"] = output["url"]
            return Answer(status, {"success": True, "data": data})
        return Answer(status, data)

    def _render_error(self, status: int, message: str, code: int | None = None) -> Answer:
        if self.speak("render_envelope") == "success_data":
            return Answer(status, {"success": False, "error": message})
        return Answer(status, {"code": code if code is not None else status, "message": message, "data": None})

    # --- endpoints ---------------------------------------------------------------------------------
    def anonymous_token(self, request, match) -> Answer:
        client_id = request.headers.get("X-Client-Id", "")
        if not client_id:
            return self._fail(400, "X-Client-Id header required", 400)
        token = "nmv_usr_sim" + uuid.uuid4().hex
        with self.lock:
            self.tokens[token] = {
                "credits": self.starting_credits,
                "expired": False,
                "client_id": client_id,
                "can_export": self.anonymous_can_export,
            }
            self.client_ids.append(client_id)
        return self._ok(
            {"token": token, "user_id": f"anon_{client_id[:8]}", "credits": self.starting_credits, "expires_at": ""}
        )

    def create_session(self, request, match) -> Answer:
        token, problem = self._token(request)
        if problem:
            return problem
        session = SimulatedSession(id=uuid.uuid4().hex, task_id=uuid.uuid4().hex, token=token)
        with self.lock:
            self.sessions[session.id] = session
        return self._ok({"task_id": session.task_id, "session_id": session.id})

    def upload(self, request, match) -> Answer:
        token, problem = self._token(request)
        if problem:
            return problem
        session = self._session(match["sid"], token)
        if session is None:
            return self._fail(1002, "session not found")
        body = request.json_body() or {}
        if body.get("source_type") != "url" or not isinstance(body.get("urls"), list) or not body["urls"]:
            return self._fail(4001, "urls with source_type url are required", 400)
        files = []
        for url in body["urls"]:
            extension = str(url).split("?")[0].rsplit(".", 1)[-1].lower()
            if extension not in FORMATS:
                return self._fail(4001, f"unsupported file type .{extension}")
            destination = self.workdir / session.id / f"upload-{len(session.uploads)}.{extension}"
            destination.parent.mkdir(parents=True, exist_ok=True)
            try:
                fetch_input(str(url), destination, max_bytes=self.max_upload_bytes)
            except SimulatorError as exc:
                if "too large" in str(exc):
                    return self._fail(4002, "file too large")
                return self._fail(4001, f"could not fetch the file: {exc}")
            session.uploads.append(destination)
            files.append({"filename": destination.name, "file_type": extension})
        if self.speak("upload_draft") == "source_on_timeline":
            video = next((p for p in session.uploads if p.suffix[1:] in VIDEO_FORMATS), None)
            if video is not None:
                # The raw upload on the timeline: a draft that "has a video track" before any edit.
                session.draft = {"t": [{"tt": 0, "sg": [{"src": video.name, "d": 1000}]}], "d": 1000}
        return self._ok({"files": files, "session_state_applied": True})

    def run_sse(self, request, match) -> Answer | None:
        token, problem = self._token(request)
        if problem:
            return problem
        body = request.json_body() or {}
        if body.get("app_name") != "nemo_agent" or body.get("user_id") != "me":
            return self._fail(400, "app_name nemo_agent and user_id me are required", 400)
        session = self._session(str(body.get("session_id", "")), token)
        if session is None:
            return self._fail(1002, "session not found")
        parts = (body.get("new_message") or {}).get("parts") or []
        if not parts or not str(parts[0].get("text", "")).strip():
            return self._fail(400, "new_message.parts[0].text is required", 400)
        with self.lock:
            record = self.tokens[token]
            if record["credits"] < self.edit_cost:
                return self._fail(2001, "not enough credits")
            record["credits"] -= self.edit_cost
            self.submit_count += 1
            session.edits += 1
            session.faults = self.take_run_faults()
        if request.answer_lost:
            # Charged and carried out, but the gateway's answer is an error.
            self._apply_edit(session)
            return None

        request.send_response(200)
        request.send_header("Content-Type", "text/event-stream")
        request.send_header("Cache-Control", "no-cache")
        request.send_header("Connection", "close")
        request.end_headers()
        request.close_connection = True
        typed = self.speak("sse_events") == "typed"

        def event(payload: dict | None) -> None:
            data = "" if payload is None else json.dumps(payload)
            request.wfile.write(f"data: {data}\n\n".encode())
            request.wfile.flush()

        try:
            for _ in range(self.heartbeats):
                request.wfile.write(b": heartbeat\n\n")
                event({"type": "heartbeat"} if typed else None)
                if self.step_delay:
                    time.sleep(self.step_delay)
            if typed:
                event({"type": "tool_call", "name": "lip_sync", "args": {}})
            else:
                event(
                    {
                        "author": "nemo_agent",
                        "content": {"role": "model", "parts": [{"functionCall": {"name": "lip_sync"}}]},
                    }
                )
            self._apply_edit(session)
            if typed:
                event({"type": "tool_result", "name": "lip_sync", "result": {"ok": True}})
            if self.sse_mode == "drop_after_apply":
                request.handler.connection.shutdown(socket.SHUT_RDWR)
                return None
            if self.sse_mode == "text":
                text = "Done: the mouth now follows the new audio track. The timeline has the synced clip."
                if typed:
                    event({"type": "text", "content": text})
                else:
                    event({"author": "nemo_agent", "content": {"role": "model", "parts": [{"text": text}]}})
        except OSError:
            pass
        return None

    def _apply_edit(self, session: SimulatedSession) -> None:
        video = next((p for p in session.uploads if p.suffix[1:] in VIDEO_FORMATS), None)
        image = next((p for p in session.uploads if p.suffix[1:] in IMAGE_FORMATS), None)
        audio = next((p for p in session.uploads if p.suffix[1:] not in VIDEO_FORMATS | IMAGE_FORMATS), None)
        workdir = self.workdir / session.id / f"edit-{session.edits}"
        workdir.mkdir(parents=True, exist_ok=True)
        if "failed_run" in session.faults:
            return  # the agent answers, but nothing lands on the timeline
        session.output = render_output(
            workdir, video=video, image=image, audio=audio, max_seconds=self.max_output_seconds
        )
        ms = 1000
        session.draft = {
            "t": [
                {"tt": 0, "sg": [{"src": session.output.name, "d": ms, "m": {"lipsync": True}}]},
                {"tt": 1, "sg": [{"src": (audio.name if audio else ""), "d": ms}]},
            ],
            "d": ms,
        }
        session.generated.append({"type": "video", "name": session.output.name})

    def state(self, request, match) -> Answer:
        token, problem = self._token(request)
        if problem:
            return problem
        session = self._session(match["sid"], token)
        if session is None:
            return self._fail(1002, "session not found")
        return self._ok(
            {
                "state": {
                    "draft": session.draft,
                    "video_infos": [{"name": p.name} for p in session.uploads],
                    "generated_media": session.generated,
                    # Analyses change on their own: not part of the edit.
                    "video_analyses": [{"name": p.name, "checked_at": time.time()} for p in session.uploads],
                },
                "task_id": session.task_id,
            }
        )

    def balance(self, request, match) -> Answer:
        token, problem = self._token(request)
        if problem:
            return problem
        credits = self.tokens[token]["credits"]
        return self._ok({"available": credits, "frozen": 0, "total": credits})

    def start_render(self, request, match) -> Answer:
        token, problem = self._token(request)
        if problem:
            return problem
        if any(not request.headers.get(name) for name in ATTRIBUTION_HEADERS):
            return self._render_error(402, "export is not available on this plan", CODE_PLAN)
        with self.lock:
            can_export = self.tokens[token].get("can_export", True)
        if not can_export:
            return self._render_error(402, "free plan export blocked: register or upgrade", CODE_PLAN)
        body = request.json_body() or {}
        render_id = str(body.get("id", ""))
        if not render_id.startswith("render_") or (body.get("output") or {}).get("format") != "mp4":
            return self._render_error(400, "id render_<ts> and output.format mp4 are required")
        session = self._session(str(body.get("sessionId", "")), token)
        if session is None:
            return self._fail(1002, "session not found")
        draft = body.get("draft")
        if not isinstance(draft, dict) or not any(track.get("sg") for track in draft.get("t") or []):
            return self._render_error(400, "draft has no tracks to render")
        with self.lock:
            if render_id in self.renders:
                return self._render_error(400, f"duplicate render id {render_id}")
            run_faults = dict(session.faults)
            if "failed_render" in run_faults:
                # Only the run's first render fails; a render under a new id goes through.
                session.faults.pop("failed_render")
            render = SimulatedRender(render_id, session.id, session.output, run_faults)
            self.renders[render_id] = render
        return self._render_answer({"id": render.id, "status": render.status, "progress": 5})

    def render_status(self, request, match) -> Answer:
        _token, problem = self._token(request)
        if problem:
            return problem
        with self.lock:
            render = self.renders.get(match["rid"])
            if render is None:
                return self._render_error(404, "render not found")
            render.polls += 1
            if render.status in {"completed", "failed", "cancelled"}:
                pass
            elif "never_finishes" in render.faults:
                render.status = "processing"
            elif render.polls > self.render_polls:
                failed = render.source is None or "failed_render" in render.faults
                render.status = "failed" if failed else "completed"
            else:
                render.status = "processing"
        status = render.status
        if status == "processing":
            status = self.speak("render_running")
        data = {"id": render.id, "status": status, "progress": 100 if status == "completed" else 50}
        if render.status == "completed":
            self._publish(render)
            if self.speak("render_output") == "url":
                data["output"] = {"url": self.output_url(render.id, render.faults)}
        if render.status == "failed":
            data["error"] = "render failed"
        return self._render_answer(data)

    def cancel_render(self, request, match) -> Answer:
        _token, problem = self._token(request)
        if problem:
            return problem
        with self.lock:
            render = self.renders.get(match["rid"])
            if render is None:
                return self._render_error(404, "render not found")
            if render.status in {"pending", "processing"}:
                render.status = "cancelled"
        return self._render_answer({"id": render.id, "status": render.status})

    def _publish(self, render: SimulatedRender) -> None:
        target = self.workdir / "renders" / render.id / "output.mp4"
        if not target.exists() and render.source is not None:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(render.source, target)

    def download(self, request, match) -> Answer | None:
        with self.lock:
            render = self.renders.get(match["id"])
        path = self.workdir / "renders" / match["id"] / "output.mp4"
        if render is None or match["name"] != "output.mp4" or not path.exists():
            return Answer(404, {"error": "no such file"})
        if "expired_output" in render.faults:
            return Answer(403, {"error": "link expired"})
        self.serve_file(request, path, render.faults)
        return None

    def render_download(self, request, match) -> Answer | None:
        """The skill's fallback: the rendered file through the API, with the token."""
        _token, problem = self._token(request)
        if problem:
            return problem
        with self.lock:
            render = self.renders.get(match["rid"])
        path = self.workdir / "renders" / match["rid"] / "output.mp4"
        if render is None or render.status != "completed" or not path.exists():
            return Answer(404, {"code": 404, "message": "no such render file"})
        self.serve_file(request, path, {})
        return None


CODE_PLAN = 402
