"""The API through real HTTP: our site live, a real django-q2 worker process for the
tests that need work done or webhooks sent, and a small independent webhook receiver."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from lipsync_site.api.services import create_token
from tests import mediafactory
from tests.processes import Workers, database_env

# What a worker subprocess is told (its settings come from the environment).
WORKER_ENV = {
    "WEBHOOK_TIMEOUT_SECONDS": "1",
    "WEBHOOK_RETRY_DELAYS_SECONDS": "0.2,0.2,0.2",
    "WEBHOOK_ALLOW_PRIVATE": "1",
}


@pytest.fixture
def api(live_server):
    """``api(token)``: an httpx client for /api/v1 carrying the token."""
    clients = []

    def make(token: str | None = None, **headers) -> httpx.Client:
        if token:
            headers["Authorization"] = f"Bearer {token}"
        client = httpx.Client(base_url=f"{live_server.url}/api/v1", headers=headers, timeout=60, trust_env=False)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


def token_for(user, workspace, *scopes, expires_at=None) -> str:
    return create_token(
        workspace=workspace,
        created_by=user,
        name="test",
        scopes=list(scopes or ["read", "write"]),
        expires_at=expires_at,
    ).secret


@pytest.fixture
def clip(media_dir):
    return mediafactory.make_video(media_dir / "clip.mp4", seconds=1.0)


@pytest.fixture
def voices(media_dir):
    pitches = {"fr": 180.0, "de": 220.0, "es": 260.0}  # three different recordings, not one stored thrice
    return [
        mediafactory.make_audio(media_dir / f"{lang}.wav", seconds=1.0, freq=pitch) for lang, pitch in pitches.items()
    ]


@pytest.fixture
def worker(live_server, settings):
    """A real django-q2 cluster (and the tracker), as ``make run`` starts them, on the test database."""
    logdir = settings.VAR_DIR / "logs"
    logdir.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        **database_env(),
        **WORKER_ENV,
        "DJANGO_SETTINGS_MODULE": "lipsync_site.settings",
        "REDIS_URL": "",
        "Q_SITE_NAME": settings.Q_SITE_NAME,  # the queue the live site enqueues on
        "LIPSYNC_VAR_DIR": str(settings.VAR_DIR),
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "PUBLIC_BASE_URL": live_server.url,
        "CONSENT_REVIEW_POLICY": "after",
        "Q_WORKERS": "2",
        "JOBS_POLL_MIN_SECONDS": "0.2",
        "JOBS_POLL_MAX_SECONDS": "0.5",
    }
    workers = Workers(env, logdir)
    workers.start_cluster()
    workers.start_tracker()
    yield workers
    workers.stop_all()


def wait_for(done, *, timeout: float, what: str, logs=None):
    deadline = time.monotonic() + timeout
    while not (result := done()):
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {timeout:.0f} s" + (f"\n{logs()}" if logs else ""))
        time.sleep(0.2)
    return result


def verify_signature(secret: str, header: str, body: bytes, *, tolerance: int = 300) -> bool:
    """A receiver's check, written from the documented format alone (not our code)."""
    fields = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    stamp, given = fields.get("t", ""), fields.get("v1", "")
    if not stamp.isdigit() or abs(time.time() - int(stamp)) > tolerance:
        return False
    expected = hmac.new(secret.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, given)


class Receiver:
    """An HTTP server in a thread that records what it is sent and answers as told:
    ``answers`` is a list of status codes (or "sleep" to stall past the sender's timeout),
    used in order; 200 once they run out."""

    def __init__(self):
        self.requests: list[dict] = []
        self.answers: list = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.requests.append({"headers": dict(self.headers), "body": body, "path": self.path})
                answer = receiver.answers.pop(0) if receiver.answers else 200
                if answer == "sleep":
                    time.sleep(2.5)
                    answer = 200
                self.send_response(answer)
                if answer in (301, 302, 307):
                    self.send_header("Location", "http://127.0.0.1:9/elsewhere")
                self.end_headers()
                self.wfile.write(json.dumps({"ok": answer == 200}).encode())

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}/hook"

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    receiver = Receiver()
    yield receiver
    receiver.close()
