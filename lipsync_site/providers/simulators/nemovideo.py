"""A loopback server that speaks NemoVideo's agent API as seed 002 describes it.

Starter token, session, upload by URL (fetched here, like the real service), the edit
message over SSE (ADK-style ``data:`` events with heartbeats; the edit is applied to the
session's draft), state, credits, render and render polling, and the rendered file.

Beyond the shared faults: ``sse_mode`` ("text", "no_text", "drop_after_apply") shapes the
edit stream, ``expire_tokens()`` makes every token answer 1001, ``drop_sessions()`` makes
every session answer 1002, ``credits`` sets the starter balance.
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
    status: str = "pending"  # pending, rendering, completed, failed


class NemoVideoSimulator(SimulatorServer):
    name = "nemovideo"

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
        self.tokens: dict[str, dict] = {}
        self.sessions: dict[str, SimulatedSession] = {}
        self.renders: dict[str, SimulatedRender] = {}
        super().__init__(**kwargs)
        if accept_token:
            self.tokens[accept_token] = {"credits": credits, "expired": False, "client_id": ""}

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
            Route("GET", r"/files/(?P<id>[^/]+)/(?P<name>[^/]+)", "download", self.download),
        ]

    def reset_state(self) -> None:
        self.tokens = {k: v for k, v in self.tokens.items() if k == self.accept_token}
        self.sessions.clear()
        self.renders.clear()

    def error_body(self, fault: Fault) -> dict:
        code = int(
            fault.params.get("code", 2001 if fault.name == "error_200" else 429 if fault.name == "rate_limit" else 500)
        )
        return {"code": code, "message": fault.params.get("message", "simulated error"), "data": None}

    # --- switches for tests ----------------------------------------------------------------------
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

    # --- endpoints ---------------------------------------------------------------------------------
    def anonymous_token(self, request, match) -> Answer:
        client_id = request.headers.get("X-Client-Id", "")
        if not client_id:
            return self._fail(400, "X-Client-Id header required", 400)
        token = "nemo-sim-" + uuid.uuid4().hex
        with self.lock:
            self.tokens[token] = {"credits": self.starting_credits, "expired": False, "client_id": client_id}
        return self._ok({"token": token, "credits": self.starting_credits, "expires_in": 7 * 24 * 3600})

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
            files.append({"name": destination.name, "type": extension})
        return self._ok({"files": files})

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

        request.send_response(200)
        request.send_header("Content-Type", "text/event-stream")
        request.send_header("Cache-Control", "no-cache")
        request.send_header("Connection", "close")
        request.end_headers()
        request.close_connection = True

        def event(payload: dict | None) -> None:
            data = "" if payload is None else json.dumps(payload)
            request.wfile.write(f"data: {data}\n\n".encode())
            request.wfile.flush()

        try:
            for _ in range(self.heartbeats):
                request.wfile.write(b": heartbeat\n\n")
                event(None)
                if self.step_delay:
                    time.sleep(self.step_delay)
            event(
                {
                    "author": "nemo_agent",
                    "content": {"role": "model", "parts": [{"functionCall": {"name": "lip_sync"}}]},
                }
            )
            self._apply_edit(session)
            if self.sse_mode == "drop_after_apply":
                request.handler.connection.shutdown(socket.SHUT_RDWR)
                return None
            if self.sse_mode == "text":
                text = "Done: the mouth now follows the new audio track. The timeline has the synced clip."
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
            return self._fail(402, "export is not available on this plan", 402)
        body = request.json_body() or {}
        render_id = str(body.get("id", ""))
        if not render_id.startswith("render_") or (body.get("output") or {}).get("format") != "mp4":
            return self._fail(400, "id render_<ts> and output.format mp4 are required", 400)
        session = self._session(str(body.get("sessionId", "")), token)
        if session is None:
            return self._fail(1002, "session not found")
        if not body.get("draft"):
            return self._fail(400, "draft is required", 400)
        with self.lock:
            existing = self.renders.get(render_id)
            if existing is None:
                existing = SimulatedRender(render_id, session.id, session.output, dict(session.faults))
                self.renders[render_id] = existing
        return self._ok({"id": existing.id, "status": existing.status})

    def render_status(self, request, match) -> Answer:
        _token, problem = self._token(request)
        if problem:
            return problem
        with self.lock:
            render = self.renders.get(match["rid"])
            if render is None:
                return self._fail(404, "render not found", 404)
            render.polls += 1
            if "never_finishes" in render.faults:
                render.status = "rendering"
            elif render.status != "completed" and render.status != "failed":
                if render.polls > self.render_polls:
                    render.status = "failed" if render.source is None else "completed"
                else:
                    render.status = "rendering"
        data = {"id": render.id, "status": render.status, "progress": 100 if render.status == "completed" else 50}
        if render.status == "completed":
            self._publish(render)
            data["output"] = {"url": self.output_url(render.id, render.faults)}
        if render.status == "failed":
            data["error"] = "render failed"
        return self._ok(data)

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
        self.serve_file(request, path, render.faults)
        return None
