"""Upload benchmark: stream a 1 GiB voice file to the new-job form of a real server
process and print how much that process's memory grew. Goal: under 100 MB.

    /work/main/.venv/bin/python benchmarks/bench_upload.py            # 1 GiB
    /work/main/.venv/bin/python benchmarks/bench_upload.py --mib 256

Everything runs in a throwaway directory: its own SQLite database, media root and
``manage.py runserver --noreload`` (one process, so its RSS is the web process's). The
file is a WAV (a real, valid voice: a sine tone, so intake accepts it) streamed in 1 MiB
chunks; the server streams it to a temporary file, probes it in a subprocess, hashes and
stores it. Not a timed test: it prints numbers.
"""

from __future__ import annotations

import argparse
import http.client
import os
import secrets
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import psutil

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
RATE, CHANNELS = 48_000, 2


def write_wav(path: Path, size: int) -> None:
    """A 16-bit stereo WAV of about ``size`` bytes: a 220 Hz tone, written in chunks."""
    data_bytes = size - 44
    data_bytes -= data_bytes % (2 * CHANNELS)
    second = (0.3 * np.sin(2 * np.pi * 220 * np.arange(RATE) / RATE) * 32767).astype("<i2")
    block = np.repeat(second, CHANNELS).tobytes()
    with open(path, "wb") as fh:
        fh.write(b"RIFF" + struct.pack("<I", 36 + data_bytes) + b"WAVE")
        fh.write(b"fmt " + struct.pack("<IHHIIHH", 16, 1, CHANNELS, RATE, RATE * CHANNELS * 2, CHANNELS * 2, 16))
        fh.write(b"data" + struct.pack("<I", data_bytes))
        left = data_bytes
        while left:
            part = block[: min(len(block), left)]
            fh.write(part)
            left -= len(part)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def manage(env, *args, capture=False):
    return subprocess.run(
        [PYTHON, "manage.py", *args], cwd=ROOT, env=env, check=True, capture_output=capture, text=True
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mib", type=int, default=1024, help="size of the upload in MiB (default 1024)")
    args = parser.parse_args()
    size = args.mib * 1024 * 1024

    with tempfile.TemporaryDirectory(prefix="bench-upload-") as workdir:
        work = Path(workdir)
        env = {
            **os.environ,
            "DJANGO_ENV": "development",
            "LIPSYNC_VAR_DIR": str(work / "var"),
            "MEDIA_UPLOAD_MAX_BYTES": str(size + 64 * 1024 * 1024),
            "MEDIA_PROBE_TIMEOUT_SECONDS": "120",
            "FILE_UPLOAD_TEMP_DIR": str(work),
            "LOG_LEVEL": "WARNING",
        }
        env.pop("DATABASE_URL", None)
        print(f"writing a {args.mib} MiB WAV ...", flush=True)
        voice = work / "voice.wav"
        write_wav(voice, size)

        manage(env, "migrate", "-v", "0")
        session_key = (
            manage(
                env,
                "shell",
                "-c",
                "from django.contrib.auth import get_user_model;"
                "from django.contrib.sessions.backends.db import SessionStore;"
                "from lipsync_site.workspaces.services import create_workspace;"
                "u = get_user_model().objects.create_user('bench', password='bench-bench-bench');"
                "create_workspace(name='Upload benchmark', owner=u, personal=True);"
                "s = SessionStore(); s['_auth_user_id'] = str(u.pk);"
                "s['_auth_user_backend'] = 'allauth.account.auth_backends.AuthenticationBackend';"
                "s['_auth_user_hash'] = u.get_session_auth_hash(); s.create(); print(s.session_key)",
                capture=True,
            )
            .stdout.strip()
            .splitlines()[-1]
        )

        port = free_port()
        server = subprocess.Popen(
            [PYTHON, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            csrf = secrets.token_hex(16)  # 32 characters: a valid unmasked CSRF secret
            cookies = f"sessionid={session_key}; csrftoken={csrf}"
            for _ in range(100):
                try:
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                    conn.request("GET", "/jobs/new/", headers={"Cookie": cookies})
                    warm = conn.getresponse()
                    warm.read()
                    if warm.status == 200:
                        break
                    raise SystemExit(f"the form answered HTTP {warm.status} ({warm.getheader('Location')}), not 200")
                except OSError:
                    time.sleep(0.2)
            else:
                raise SystemExit("the server did not start")

            process = psutil.Process(server.pid)
            baseline = process.memory_info().rss
            peak = {"rss": baseline}
            done = threading.Event()

            def sample():
                while not done.is_set():
                    peak["rss"] = max(peak["rss"], process.memory_info().rss)
                    time.sleep(0.02)

            sampler = threading.Thread(target=sample, daemon=True)
            sampler.start()

            boundary = "----bench" + secrets.token_hex(8)
            fields = {"shape": "video_audio", "step": "check"}
            head = "".join(
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
                for name, value in fields.items()
            )
            head += (
                f'--{boundary}\r\nContent-Disposition: form-data; name="voice_audio"; filename="voice.wav"\r\n'
                "Content-Type: audio/wav\r\n\r\n"
            )
            tail = f"\r\n--{boundary}--\r\n".encode()
            length = len(head.encode()) + voice.stat().st_size + len(tail)

            started = time.monotonic()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
            conn.putrequest("POST", "/jobs/new/")
            conn.putheader("Content-Type", f"multipart/form-data; boundary={boundary}")
            conn.putheader("Content-Length", str(length))
            conn.putheader("Cookie", cookies)
            conn.putheader("X-CSRFToken", csrf)
            conn.putheader("Referer", f"http://127.0.0.1:{port}/jobs/new/")
            conn.endheaders()
            conn.send(head.encode())
            with open(voice, "rb") as fh:
                while chunk := fh.read(1024 * 1024):
                    conn.send(chunk)
            conn.send(tail)
            response = conn.getresponse()
            body = response.read().decode(errors="replace")
            elapsed = time.monotonic() - started
            done.set()
            sampler.join()
            with open(f"/proc/{server.pid}/status") as status:
                hwm = next((line.split()[1] for line in status if line.startswith("VmHWM")), "?")
        finally:
            server.terminate()
            server.wait(10)

        growth = (peak["rss"] - baseline) / 1024**2
        stored = "voice.wav" in body and 'name="voice_assets"' in body
        print(f"upload: {args.mib} MiB in {elapsed:.1f} s ({args.mib / elapsed:.0f} MiB/s), HTTP {response.status}")
        print(f"stored and shown back: {'yes' if stored else 'NO'}")
        print(f"web process RSS: baseline {baseline / 1024**2:.1f} MB, peak {peak['rss'] / 1024**2:.1f} MB")
        print(f"RSS growth: {growth:.1f} MB (goal: under 100 MB); VmHWM {int(hwm) / 1024:.1f} MB")
        sys.exit(0 if stored and growth < 100 else 1)


if __name__ == "__main__":
    main()
