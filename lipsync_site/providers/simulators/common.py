"""What both simulators share: a threaded loopback HTTP server, switchable faults, input
fetching like the real services do, and output clips made from the inputs.

Faults are armed through the Python API (``sim.inject("rate_limit", count=2)``) or over
HTTP (``POST /_sim/faults {"fault": "rate_limit", "count": 2}``). Per-request faults
(rate_limit, server_error, slow, drop, malformed_json, error_200) hit the next ``count``
requests to ``endpoint`` (any endpoint when empty); per-run faults (failed_run,
never_finishes, disallowed_host, oversize_output, truncated_output) mark the next
``count`` runs submitted.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import re
import shutil
import socket
import tempfile
import threading
import time
import wave
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import numpy as np

from lipsync_site.media.mismatch import ALL_MODES

logger = logging.getLogger(__name__)

REQUEST_FAULTS = {"rate_limit", "server_error", "slow", "drop", "malformed_json", "error_200"}
RUN_FAULTS = {"failed_run", "never_finishes", "disallowed_host", "oversize_output", "truncated_output"}
FAULTS = REQUEST_FAULTS | RUN_FAULTS

DISALLOWED_OUTPUT_HOST = "https://cdn.not-allowed.example"


@dataclass
class Fault:
    name: str
    count: int = 1
    endpoint: str = ""  # "" = any; else the simulator's endpoint name ("submit", "status", ...)
    params: dict = field(default_factory=dict)


class SimulatorError(Exception):
    pass


class QuietThreadingHTTPServer(ThreadingHTTPServer):
    """Clients that hang up (the faults make them) are normal here, not tracebacks on stderr."""

    daemon_threads = True

    def handle_error(self, request, client_address) -> None:
        import sys

        error = sys.exc_info()[1]
        if isinstance(error, (ConnectionError, TimeoutError)):
            return
        logger.exception("simulator connection from %s failed", client_address)


class Route:
    def __init__(self, method: str, pattern: str, endpoint: str, handler: Callable):
        self.method = method
        self.regex = re.compile(pattern + r"\Z")
        self.endpoint = endpoint
        self.handler = handler


@dataclass
class Answer:
    status: int
    body: object = None
    headers: dict = field(default_factory=dict)
    raw: bytes | None = None
    content_type: str = "application/json"


class SimulatorServer:
    """A ``ThreadingHTTPServer`` on loopback in a daemon thread, with a fault switchboard.

    Subclasses register routes in ``routes()``; handlers take (request, match) and return
    an ``Answer`` or write the response themselves and return None.
    """

    name = "simulator"

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0, step_delay: float = 0.0, workdir: Path | None = None):
        self.host = host
        self.port = port
        self.step_delay = step_delay  # seconds each background step sleeps (0 in tests)
        self._own_workdir = workdir is None
        self.workdir = Path(workdir or tempfile.mkdtemp(prefix=f"{self.name}-sim-"))
        self.lock = threading.RLock()
        self.faults: list[Fault] = []
        self.calls: list[dict] = []  # every request seen: method, path, endpoint, headers, body
        self.submit_count = 0
        self._routes = [
            Route("POST", r"/_sim/faults", "_control", self._control_faults),
            Route("POST", r"/_sim/reset", "_control", self._control_reset),
            Route("GET", r"/_sim/stats", "_control", self._control_stats),
            Route("GET", r"/_sim/redirect", "_control", self._control_redirect),
            *self.routes(),
        ]
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle ---------------------------------------------------------------------
    def start(self) -> SimulatorServer:
        handler = _make_handler(self)
        self._server = QuietThreadingHTTPServer((self.host, self.port), handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        # A short poll interval: shutdown() waits up to one interval.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name=f"{self.name}-sim", daemon=True
        )
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Foreground mode for the management command."""
        handler = _make_handler(self)
        self._server = QuietThreadingHTTPServer((self.host, self.port), handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._server.serve_forever()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._own_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> SimulatorServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    # --- faults --------------------------------------------------------------------------
    def inject(self, fault: str, *, count: int = 1, endpoint: str = "", **params) -> None:
        if fault not in FAULTS:
            raise SimulatorError(f"unknown fault {fault!r}; known: {sorted(FAULTS)}")
        with self.lock:
            self.faults.append(Fault(fault, count, endpoint, params))

    def reset(self) -> None:
        with self.lock:
            self.faults.clear()
            self.calls.clear()
            self.submit_count = 0
            self.reset_state()

    def reset_state(self) -> None:
        """Subclasses forget their requests here."""

    def take_request_fault(self, endpoint: str) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.name in REQUEST_FAULTS and fault.endpoint in ("", endpoint) and fault.count > 0:
                    fault.count -= 1
                    if fault.count == 0:
                        self.faults.remove(fault)
                    return fault
        return None

    def take_run_faults(self) -> dict[str, dict]:
        """The per-run faults the run being submitted now carries (name -> params)."""
        taken: dict[str, dict] = {}
        with self.lock:
            for fault in list(self.faults):
                if fault.name in RUN_FAULTS and fault.count > 0:
                    taken[fault.name] = fault.params
                    fault.count -= 1
                    if fault.count == 0:
                        self.faults.remove(fault)
        return taken

    def calls_to(self, endpoint: str) -> list[dict]:
        with self.lock:
            return [call for call in self.calls if call["endpoint"] == endpoint]

    # --- to override ---------------------------------------------------------------------
    def routes(self) -> list[Route]:
        return []

    def error_body(self, fault: Fault) -> dict:
        return {"error": "simulated"}

    # --- control endpoint -----------------------------------------------------------------
    def _control_faults(self, request, match) -> Answer:
        body = request.json_body() or {}
        try:
            self.inject(
                str(body.get("fault", "")),
                count=int(body.get("count", 1)),
                endpoint=str(body.get("endpoint", "")),
                **dict(body.get("params") or {}),
            )
        except (SimulatorError, ValueError, TypeError) as exc:
            return Answer(400, {"error": str(exc)})
        return Answer(200, {"armed": [f.__dict__ for f in self.faults]})

    def _control_reset(self, request, match) -> Answer:
        self.reset()
        return Answer(200, {"reset": True})

    def _control_stats(self, request, match) -> Answer:
        with self.lock:
            return Answer(
                200,
                {"submits": self.submit_count, "calls": len(self.calls), "faults": [f.__dict__ for f in self.faults]},
            )

    def _control_redirect(self, request, match) -> Answer:
        """A 302 to ``?to=``: for testing that downloads re-check hosts on every hop."""
        from urllib.parse import parse_qs

        target = parse_qs(request.query).get("to", ["/"])[0]
        return Answer(302, {}, headers={"Location": target})

    # --- files ---------------------------------------------------------------------------
    def serve_file(self, request, path: Path, run_faults: dict[str, dict]) -> None:
        """Send an output file, honouring the output faults of its run."""
        if "oversize_output" in run_faults:
            # No Content-Length: the client must count and stop by itself.
            limit = int(run_faults["oversize_output"].get("bytes", 64 * 1024 * 1024))
            request.send_response(200)
            request.send_header("Content-Type", "video/mp4")
            request.send_header("Connection", "close")
            request.end_headers()
            chunk = b"\0" * 65536
            sent = 0
            try:
                while sent < limit:
                    request.wfile.write(chunk)
                    sent += len(chunk)
            except OSError:
                pass
            request.close_connection = True
            return
        data = path.read_bytes()
        request.send_response(200)
        request.send_header("Content-Type", "video/mp4")
        request.send_header("Content-Length", str(len(data)))
        if "truncated_output" in run_faults:
            request.send_header("Connection", "close")
            request.end_headers()
            request.wfile.write(data[: len(data) // 2])
            request.wfile.flush()
            request.close_connection = True
            return
        request.end_headers()
        request.wfile.write(data)

    def output_url(self, request_id: str, run_faults: dict[str, dict], name: str = "output.mp4") -> str:
        base = DISALLOWED_OUTPUT_HOST if "disallowed_host" in run_faults else self.base_url
        return f"{base}/files/{request_id}/{name}"


class _Request:
    """The bits of a request a simulator handler needs."""

    def __init__(self, handler: BaseHTTPRequestHandler, body: bytes):
        self.handler = handler
        self.body = body
        self.headers = handler.headers
        self.path = urlsplit(handler.path).path
        self.query = urlsplit(handler.path).query

    def json_body(self):
        try:
            return json.loads(self.body or b"null")
        except ValueError:
            return None

    # Passthroughs used by handlers that write their own response (files, SSE).
    def send_response(self, status: int) -> None:
        self.handler.send_response(status)

    def send_header(self, name: str, value: str) -> None:
        self.handler.send_header(name, value)

    def end_headers(self) -> None:
        self.handler.end_headers()

    @property
    def wfile(self):
        return self.handler.wfile

    @property
    def close_connection(self) -> bool:
        return self.handler.close_connection

    @close_connection.setter
    def close_connection(self, value: bool) -> None:
        self.handler.close_connection = value


def _make_handler(sim: SimulatorServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = f"{sim.name}-simulator"

        def log_message(self, format, *args):  # keep test output quiet
            logger.debug("%s %s", sim.name, format % args)

        def do_GET(self):
            self._dispatch("GET")

        def do_POST(self):
            self._dispatch("POST")

        def do_DELETE(self):
            self._dispatch("DELETE")

        def _dispatch(self, method: str) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            request = _Request(self, body)
            for route in sim._routes:
                match = route.regex.match(request.path)
                if route.method == method and match:
                    break
            else:
                self._send(Answer(404, {"error": "no such endpoint", "path": request.path}))
                return
            if route.endpoint != "_control":
                with sim.lock:
                    sim.calls.append(
                        {
                            "method": method,
                            "path": request.path,
                            "endpoint": route.endpoint,
                            "headers": dict(self.headers.items()),
                            "body": request.json_body() if body[:1] in (b"{", b"[") else body[:200],
                        }
                    )
                fault = sim.take_request_fault(route.endpoint)
                if fault is not None and self._apply_fault(fault):
                    return
            try:
                answer = route.handler(request, match)
            except (BrokenPipeError, ConnectionResetError):
                return
            except Exception:
                logger.exception("%s simulator handler failed", sim.name)
                answer = Answer(500, {"error": "simulator bug"})
            if answer is not None:
                self._send(answer)

        def _apply_fault(self, fault: Fault) -> bool:
            """Answer with the fault; False when the fault only delays the real answer."""
            name = fault.name
            if name == "rate_limit":
                retry_after = fault.params.get("retry_after", 2)
                self._send(Answer(429, sim.error_body(fault), headers={"Retry-After": str(retry_after)}))
            elif name == "server_error":
                self._send(Answer(int(fault.params.get("status", 503)), sim.error_body(fault)))
            elif name == "slow":
                time.sleep(float(fault.params.get("seconds", 2.0)))
                return False
            elif name == "drop":
                self.close_connection = True
                with contextlib.suppress(OSError):
                    self.connection.shutdown(socket.SHUT_RDWR)
            elif name == "malformed_json":
                self._send(Answer(200, raw=b'{"request_id": "abc", "status": ', content_type="application/json"))
            elif name == "error_200":
                self._send(Answer(200, sim.error_body(fault)))
            return True

        def _send(self, answer: Answer) -> None:
            payload = answer.raw if answer.raw is not None else json.dumps(answer.body).encode()
            try:
                self.send_response(
                    answer.status, HTTPStatus(answer.status).phrase if answer.status in HTTPStatus else ""
                )
                self.send_header("Content-Type", answer.content_type)
                self.send_header("Content-Length", str(len(payload)))
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                pass

    return Handler


# --- inputs and outputs ------------------------------------------------------------------
def fetch_input(url: str, destination: Path, *, timeout: float = 20.0, max_bytes: int = 200 * 1024 * 1024) -> Path:
    """GET a public input URL the way the real services do: no cookies, no auth."""
    with (
        httpx.Client(timeout=timeout, trust_env=False, follow_redirects=True) as client,
        client.stream("GET", url) as response,
    ):
        if response.status_code != 200:
            raise SimulatorError(f"fetching {urlsplit(url).path} answered HTTP {response.status_code}")
        written = 0
        with destination.open("wb") as sink:
            for chunk in response.iter_bytes():
                written += len(chunk)
                if written > max_bytes:
                    raise SimulatorError("input too large")
                sink.write(chunk)
    return destination


def write_tone(path: Path, seconds: float, *, freq: float = 180.0, rate: int = 16_000) -> Path:
    """A speech-like tone as 16-bit mono WAV: the simulators' "generated voice"."""
    samples = max(1, int(seconds * rate))
    t = np.arange(samples) / rate
    wave_data = 0.3 * np.sin(2 * np.pi * freq * t) * (0.5 * (1 + np.sign(np.sin(2 * np.pi * 3 * t))))
    with wave.open(str(path), "wb") as sink:
        sink.setnchannels(1)
        sink.setsampwidth(2)
        sink.setframerate(rate)
        sink.writeframes((wave_data * 32767).astype(np.int16).tobytes())
    return path


def write_pattern(path: Path, *, width: int = 320, height: int = 240) -> Path:
    """A still standing in for a generated scene."""
    from PIL import Image

    picture = np.zeros((height, width, 3), dtype=np.uint8)
    picture[:, :, 1] = np.linspace(40, 200, width, dtype=np.uint8)[None, :]
    picture[:, :, 2] = np.linspace(200, 40, height, dtype=np.uint8)[:, None]
    Image.fromarray(picture).save(path)
    return path


def render_output(
    workdir: Path,
    *,
    video: Path | None,
    image: Path | None,
    audio: Path | None,
    seconds: float | None = None,
    mode: str = "cut_off",
    max_seconds: float = 2.0,
) -> Path:
    """An MP4 made from the inputs: the video or the still under the voice (or a tone).

    ``max_seconds`` keeps generated clips short so the simulators stay fast.
    """
    from lipsync_site.media import render

    output = workdir / "output.mp4"
    if audio is None:
        length = seconds
        if length is None and video is not None:
            length = render._video_geometry(video)[3]
        audio = write_tone(workdir / "voice.wav", min(max_seconds, max(0.5, length or 1.0)))
    elif seconds is not None:
        # Generated clips follow the requested length; the voice is cut or padded to it.
        trimmed = workdir / "voice-fitted.wav"
        audio = _fit_audio(audio, trimmed, min(max_seconds, seconds))
    if video is not None:
        render.mux_video_with_audio(video, audio, output, mode=mode if mode in ALL_MODES else "cut_off")
    else:
        render.still_with_audio(image or write_pattern(workdir / "scene.png"), audio, output)
    return output


def _fit_audio(source: Path, destination: Path, seconds: float) -> Path:
    from lipsync_site.media import render

    rate = render.OUTPUT_AUDIO_RATE
    target = max(1, math.ceil(seconds * rate))
    chunks = []
    total = 0
    for frame in render.iter_audio_frames(source):
        data = frame.to_ndarray()[0]
        chunks.append(data)
        total += data.shape[0]
        if total >= target:
            break
    samples = np.concatenate(chunks)[:target] if chunks else np.zeros(target, dtype=np.float32)
    if samples.shape[0] < target:
        samples = np.pad(samples, (0, target - samples.shape[0]))
    with wave.open(str(destination), "wb") as sink:
        sink.setnchannels(1)
        sink.setsampwidth(2)
        sink.setframerate(rate)
        sink.writeframes((np.clip(samples, -1, 1) * 32767).astype(np.int16).tobytes())
    return destination


# --- a stand-in for our signed links --------------------------------------------------------
class StaticFileServer:
    """Serves a directory on loopback and records every fetch (path, headers).

    In tests it stands in for the signed, public links the media app hands providers.
    """

    def __init__(self, root: Path, *, host: str = "127.0.0.1", port: int = 0):
        self.root = Path(root)
        self.fetches: list[dict] = []
        outer = self

        class Handler(SimpleHTTPRequestHandler):
            def __init__(self, *args, **kwargs):
                super().__init__(*args, directory=str(outer.root), **kwargs)

            def do_GET(self):
                outer.fetches.append({"path": self.path, "headers": dict(self.headers.items())})
                super().do_GET()

            def log_message(self, format, *args):
                logger.debug("static %s", format % args)

        self._server = QuietThreadingHTTPServer((host, port), Handler)
        self._server.daemon_threads = True
        self.host = host
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="static-files", daemon=True
        )

    def start(self) -> StaticFileServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def url(self, name: str) -> str:
        return f"http://{self.host}:{self.port}/{name}"


def wait_until(predicate: Callable[[], bool], *, timeout: float = 10.0, interval: float = 0.02) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()
