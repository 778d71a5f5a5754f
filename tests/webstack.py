"""The production web stack, for real in tests: gunicorn serving the site against the test
database, and Debian's nginx in front of it running ``deploy/nginx.conf`` (the sample a
deployment uses, rendered with this test's paths and ports)."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.objectstore import free_port
from tests.processes import ROOT, database_env

TEMPLATE = ROOT / "deploy" / "nginx.conf"


def nginx_binary() -> str:
    """Proxy tests never skip themselves: without nginx they fail, saying how to fix it."""
    path = os.environ.get("NGINX_PATH") or shutil.which("nginx")
    if not path and os.path.exists("/usr/sbin/nginx"):
        path = "/usr/sbin/nginx"  # root's PATH has it; another user's may not
    if not path:
        pytest.fail("nginx is missing: run scripts/ensure-nginx (apt-get install nginx-light) or set NGINX_PATH")
    return path


def wait_for(url: str, proc: subprocess.Popen, log: Path, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            httpx.get(url, timeout=2.0, trust_env=False)
            return
        except httpx.HTTPError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"{url} did not come up:\n{log.read_text(errors='replace')[-3000:]}") from None
            time.sleep(0.1)


def site_env(**extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("PYTEST_", "DJANGO_SETTINGS"))}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "lipsync_site.settings",
            "CONSENT_REVIEW_POLICY": "after",
            "PYTHONUNBUFFERED": "1",
            **database_env(),
        }
    )
    env.update(extra)
    return env


class Gunicorn:
    """``gunicorn lipsync_site.wsgi`` as the Procfile runs it (sync workers)."""

    def __init__(self, workdir: Path, env: dict[str, str], *, workers: int = 1, timeout: int = 120):
        self.port = free_port()
        self.log = workdir / "gunicorn.log"
        with open(self.log, "wb") as out:
            self.proc = subprocess.Popen(
                [
                    sys.executable, "-m", "gunicorn", "lipsync_site.wsgi",
                    "--bind", f"127.0.0.1:{self.port}",
                    "--workers", str(workers),
                    "--timeout", str(timeout),
                ],
                cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
        self.url = f"http://127.0.0.1:{self.port}"
        wait_for(self.url + "/accounts/login/", self.proc, self.log)

    def worker_pids(self) -> list[int]:
        import psutil

        return [child.pid for child in psutil.Process(self.proc.pid).children()]

    def worker_rss(self) -> int:
        import psutil

        return sum(psutil.Process(pid).memory_info().rss for pid in self.worker_pids())

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=5)


def render_nginx_conf(values: dict[str, str]) -> str:
    """deploy/nginx.conf with our ${LIPSYNC_*} values, as envsubst with that list would."""
    text = TEMPLATE.read_text()
    missing = set(re.findall(r"\$\{(LIPSYNC_[A-Z_]+)\}", text)) - set(values)
    assert not missing, f"deploy/nginx.conf needs {sorted(missing)}"
    # envsubst replaces both ${NAME} and $NAME of the names it is given.
    return re.sub(
        r"\$\{(LIPSYNC_[A-Z_]+)\}|\$(LIPSYNC_[A-Z_]+)\b",
        lambda match: values[match.group(1) or match.group(2)],
        text,
    )


class Nginx:
    """Debian's nginx running deploy/nginx.conf in front of ``upstream``."""

    def __init__(
        self, workdir: Path, *, upstream: str, media_root: Path, upload_max: str = "600m", extra_locations: str = ""
    ):
        self.port = free_port()
        run_dir = workdir / "nginx"
        run_dir.mkdir(parents=True, exist_ok=True)
        self.conf = run_dir / "nginx.conf"
        rendered = render_nginx_conf(
            {
                "LIPSYNC_NGINX_USER": "root" if os.geteuid() == 0 else os.environ.get("USER", "nobody"),
                "LIPSYNC_RUN_DIR": str(run_dir),
                "LIPSYNC_LOG_DIR": str(run_dir),
                "LIPSYNC_LISTEN": f"127.0.0.1:{self.port}",
                "LIPSYNC_UPSTREAM": upstream,
                "LIPSYNC_MEDIA_ROOT": str(media_root),
                "LIPSYNC_UPLOAD_MAX": upload_max,
            }
        )
        if extra_locations:  # benchmarks add a public location to compare against
            rendered = rendered.replace("        location / {", extra_locations + "\n        location / {", 1)
        self.conf.write_text(rendered)
        self.log = run_dir / "error.log"
        self.log.touch()
        binary = nginx_binary()
        check = subprocess.run(
            [binary, "-t", "-e", str(self.log), "-c", str(self.conf)], capture_output=True, text=True, check=False
        )
        assert check.returncode == 0, check.stderr
        self.proc = subprocess.Popen(
            [binary, "-e", str(self.log), "-c", str(self.conf), "-g", "daemon off;"],
            stdout=subprocess.DEVNULL,
            stderr=open(run_dir / "stderr.log", "wb"),  # noqa: SIM115 (closed with the process)
            start_new_session=True,
        )
        self.url = f"http://127.0.0.1:{self.port}"
        wait_for(self.url + "/accounts/login/", self.proc, self.log)
        self.access_log = run_dir / "access.log"

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGQUIT)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=5)


def fetch_discarding(url: str, *, cookies: dict[str, str] | None = None, timeout: float = 60.0):
    """GET ``url`` over a plain socket, counting the body's bytes without keeping them (a
    client as fast as the loopback allows, unlike a Python HTTP library's chunk loop).
    Returns (status, headers, body bytes received, seconds); ``headers["x-first-byte"]``
    is the seconds until the answer's head arrived."""
    import socket

    parts = httpx.URL(url)
    cookie = "; ".join(f"{key}={value}" for key, value in (cookies or {}).items())
    request = (
        f"GET {parts.raw_path.decode()} HTTP/1.1\r\nHost: {parts.host}:{parts.port}\r\nConnection: close\r\n"
        + (f"Cookie: {cookie}\r\n" if cookie else "")
        + "\r\n"
    )
    started = time.monotonic()
    with socket.create_connection((parts.host, parts.port), timeout=timeout) as sock:
        sock.sendall(request.encode())
        head = b""
        while b"\r\n\r\n" not in head:
            data = sock.recv(65536)
            if not data:
                break
            head += data
        first_byte = time.monotonic() - started
        head, _, rest = head.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {key.lower(): value.strip() for key, _, value in (line.partition(":") for line in lines[1:])}
        headers["x-first-byte"] = first_byte
        received = len(rest)
        buffer = bytearray(4 << 20)
        while count := sock.recv_into(buffer):
            received += count
    return status, headers, received, time.monotonic() - started


def sparse_asset(owner, size: int, media_root: Path):
    """A stored output of ``size`` bytes that takes no disk (a sparse file)."""
    import uuid

    from lipsync_site.media.models import Asset
    from tests.factories import workspace_of

    name = f"assets/{owner.pk}/sparse/{uuid.uuid4().hex}.mp4"
    path = media_root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as fh:
        fh.truncate(size)
    return Asset.objects.create(
        owner=owner,
        workspace=workspace_of(owner),
        kind=Asset.Kind.VIDEO,
        origin=Asset.Origin.OUTPUT,
        file=name,
        extension=".mp4",
        content_type="video/mp4",
        sha256="0" * 64,
        size_bytes=size,
    )
