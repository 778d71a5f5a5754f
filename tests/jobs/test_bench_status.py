"""``make bench`` on PostgreSQL: the job page's polled status partial under gunicorn, next
to an equally authenticated trivial view, in the same run.

Prints requests per second for the trivial view, the partial answered in full (200) and the
partial answered "not modified" (304, the browser's If-None-Match). Goal: the 200 at least
0.7x the trivial view.

Two figures per case: requests per second of wall time, and requests per second of the
gunicorn workers' CPU time. On a shared machine the first swings with whatever else runs;
the second is what the server itself spends per request, and is what the goal is judged on
(printed as reached or not: the figure is the point, the benchmark fails only when it
measured nothing). What is left between the partial and the trivial view is one indexed
primary-key query (the 304 does nothing else) and, for the 200, rendering the fragment.
The cases are measured in short interleaved slices so a busy moment hits all of them.
"""

import os
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from http.client import HTTPConnection

import psutil
import pytest
from django.test import Client

from tests import factories, mediafactory
from tests.processes import ROOT, database_env

pytestmark = [pytest.mark.bench, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

SECONDS = 1.0
ROUNDS = 10
THREADS = 4
GOAL = 0.7


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def hammer(port: int, path: str, headers: dict, seconds: float) -> tuple[float, dict]:
    """Requests per second from THREADS clients for ``seconds``, and the statuses seen."""
    done, statuses, stop = [0], {}, time.monotonic() + seconds
    lock = threading.Lock()

    def client():
        count, seen = 0, {}
        while time.monotonic() < stop:
            connection = HTTPConnection("127.0.0.1", port, timeout=10)
            connection.request("GET", path, headers=headers)
            response = connection.getresponse()
            response.read()
            connection.close()
            seen[response.status] = seen.get(response.status, 0) + 1
            count += 1
        with lock:
            done[0] += count
            for status, number in seen.items():
                statuses[status] = statuses.get(status, 0) + number

    started = time.monotonic()
    threads = [threading.Thread(target=client) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return done[0] / (time.monotonic() - started), statuses


def test_status_partial_against_a_trivial_view_under_gunicorn(owner, media_dir, tmp_path, settings):
    video = factories.stored_file(owner, mediafactory.make_video(media_dir / "v.mp4", seconds=1.0), "video")
    voice = factories.stored_file(owner, mediafactory.make_audio(media_dir / "a.wav", seconds=1.0), "audio")
    job = factories.make_job(owner, video=video, voice=voice)
    browser = Client()
    browser.force_login(owner)
    cookie = f"{settings.SESSION_COOKIE_NAME}={browser.cookies[settings.SESSION_COOKIE_NAME].value}"
    port = free_port()
    env = {
        **os.environ,
        **database_env(),
        "DJANGO_SETTINGS_MODULE": "tests.bench_settings",
        "DJANGO_DEBUG": "0",
        "LIPSYNC_VAR_DIR": str(settings.VAR_DIR),
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
    }
    log = open(tmp_path / "gunicorn.log", "wb")  # noqa: SIM115 (closed below)
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "lipsync_site.wsgi", "-b", f"127.0.0.1:{port}", "-w", "2"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline and server.poll() is None, (tmp_path / "gunicorn.log").read_text()
                time.sleep(0.2)
        status_path = urllib.parse.urlsplit(f"/jobs/{job.id}/status/").path
        base = {"Cookie": cookie, "HX-Request": "true", "Host": "127.0.0.1"}
        probe_connection = HTTPConnection("127.0.0.1", port, timeout=10)
        probe_connection.request("GET", status_path, headers=base)
        first = probe_connection.getresponse()
        first.read()
        etag = first.getheader("ETag")
        assert first.status == 200 and etag, "the partial did not answer"
        cases = {
            "trivial authenticated view": ("/bench/ping/", {"Cookie": cookie, "Host": "127.0.0.1"}, 200),
            "status partial (200)": (status_path, base, 200),
            "status partial (304)": (status_path, {**base, "If-None-Match": etag}, 304),
        }
        workers = psutil.Process(server.pid).children()

        def server_cpu() -> float:
            return sum(sum(worker.cpu_times()[:2]) for worker in workers)

        rates = {name: [] for name in cases}
        served = {name: [0, 0.0] for name in cases}  # requests, worker CPU seconds
        for path, headers, _ in cases.values():
            hammer(port, path, headers, 0.5)  # warm up
        for _ in range(ROUNDS):
            for name, (path, headers, expected) in cases.items():
                before = server_cpu()
                rate, statuses = hammer(port, path, headers, SECONDS)
                served[name][1] += server_cpu() - before
                served[name][0] += sum(statuses.values())
                assert set(statuses) == {expected}, f"{name}: answered {statuses}"
                rates[name].append(rate)
    finally:
        server.terminate()
        server.wait(timeout=20)
        log.close()
    baseline = statistics.median(rates["trivial authenticated view"])
    per_cpu = {name: requests / cpu for name, (requests, cpu) in served.items() if cpu > 0}
    cpu_baseline = per_cpu.get("trivial authenticated view", 0.0)
    print(f"\nstatus partial under gunicorn (2 workers, {THREADS} clients) on PostgreSQL, {ROUNDS} rounds")
    print(f"  {'':<28} {'wall req/s':>10} {'ratio':>6}   {'req per CPU-s':>13} {'ratio':>6}")
    for name in cases:
        rate = statistics.median(rates[name])
        print(
            f"  {name:<28} {rate:10.0f} {rate / baseline:5.2f}x   {per_cpu.get(name, 0):13.0f} "
            f"{per_cpu.get(name, 0) / cpu_baseline if cpu_baseline else 0:5.2f}x"
        )
    reached = per_cpu["status partial (200)"] / cpu_baseline >= GOAL
    print(
        f"  goal: the 200 at least {GOAL}x the trivial view (judged on the workers' CPU): "
        + ("reached" if reached else "NOT REACHED")
    )
    assert baseline > 0 and cpu_baseline > 0, "measured nothing"
