"""pytest fixtures for any app that needs the simulators.

In a conftest: ``from lipsync_site.providers.simulators.pytest_fixtures import *  # noqa: F403``.

- ``provider_media``: small generated inputs (video, voice, portrait) served from a loopback
  static server standing in for our signed links; ``.url("video.mp4")``, ``.fetches``.
- ``runcomfy_sim``: a running RunComfy simulator, settings pointed at it (no key).
- ``nemo_sim``: a running NemoVideo simulator, settings pointed at it (needs the database:
  the starter token is stored there).
- ``sync_sim``: a running Sync Labs simulator, settings pointed at it (needs the database:
  the generate limit is shared there), quick webhook retries.
- ``webhook_receiver``: a loopback endpoint that records webhook deliveries and answers
  the statuses queued in ``.answers`` (then 200).
"""

from __future__ import annotations

import pytest

from lipsync_site.providers.simulators.common import StaticFileServer, write_pattern, write_tone
from lipsync_site.providers.simulators.nemovideo import NemoVideoSimulator
from lipsync_site.providers.simulators.runcomfy import RunComfySimulator
from lipsync_site.providers.simulators.syncso import SyncSimulator

__all__ = ["nemo_sim", "provider_media", "runcomfy_sim", "sync_sim", "webhook_receiver"]


@pytest.fixture(scope="session")
def provider_media(tmp_path_factory):
    from lipsync_site.media import render

    root = tmp_path_factory.mktemp("provider-media")
    write_tone(root / "voice.wav", 1.0)
    write_pattern(root / "portrait.png", width=160, height=160)
    render.still_with_audio(
        write_pattern(root / "scene.png", width=160, height=120), root / "voice.wav", root / "video.mp4", fps=10
    )
    server = StaticFileServer(root).start()
    yield server
    server.stop()


@pytest.fixture
def runcomfy_sim(settings):
    sim = RunComfySimulator(queue_polls=1, running_polls=1, max_output_seconds=1.0).start()
    settings.RUNCOMFY_API_KEY = ""
    settings.RUNCOMFY_SIMULATOR_URL = sim.base_url
    settings.PROVIDER_HTTP_TIMEOUT_SECONDS = 2.0
    settings.PROVIDER_EXTRA_DOWNLOAD_HOSTS = ["127.0.0.1", "localhost"]
    yield sim
    sim.stop()


@pytest.fixture
def nemo_sim(settings, db):
    from django.core.cache import cache

    cache.clear()  # the export check's answers are kept per token
    sim = NemoVideoSimulator(render_polls=1, max_output_seconds=1.0).start()
    settings.NEMO_TOKEN = ""
    settings.NEMO_ANONYMOUS = False
    settings.NEMO_SIMULATOR_URL = sim.base_url
    settings.NEMO_RATE_LIMIT_WAIT_SECONDS = 0.05
    settings.PROVIDER_HTTP_TIMEOUT_SECONDS = 2.0
    settings.PROVIDER_EXTRA_DOWNLOAD_HOSTS = ["127.0.0.1", "localhost"]
    yield sim
    sim.stop()


@pytest.fixture
def sync_sim(settings, db):
    sim = SyncSimulator(pending_seconds=0.05, max_output_seconds=1.0, webhook_backoff=0.05).start()
    settings.SYNC_API_KEY = ""
    settings.SYNC_WEBHOOK_SECRET = ""
    settings.PROVIDER_SIMULATORS = True
    settings.SYNC_SIMULATOR_URL = sim.base_url
    settings.PROVIDER_HTTP_TIMEOUT_SECONDS = 2.0
    settings.PROVIDER_EXTRA_DOWNLOAD_HOSTS = ["127.0.0.1", "localhost"]
    yield sim
    sim.stop()


class WebhookReceiver:
    """Records every POST (path, headers, raw body); answers ``answers`` in turn, then 200."""

    def __init__(self):
        import threading
        from http.server import BaseHTTPRequestHandler

        from lipsync_site.providers.simulators.common import QuietThreadingHTTPServer

        self.received: list[dict] = []
        self.answers: list[int] = []
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                with outer.lock:
                    outer.received.append({"path": self.path, "headers": dict(self.headers.items()), "body": body})
                    status = outer.answers.pop(0) if outer.answers else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format, *args):
                pass

        self._server = QuietThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/hooks/sync/"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def webhook_receiver():
    receiver = WebhookReceiver()
    yield receiver
    receiver.stop()
