"""``make bench``: downloads through the production stack (deploy/nginx.conf in front of
gunicorn, filesystem media, X-Accel-Redirect), in one run:

1. 1 GiB through a signed link vs nginx serving the same file from a public location
   (goal: at least 0.9x), with the development path (the Python Range streamer, gunicorn
   alone) as the baseline;
2. ten clients reading at 2 MB/s at once while a trivial page is asked for every 0.1 s
   (goal: every answer within 100 ms), against the same with gunicorn alone;
3. the RSS growth of the gunicorn workers during each.

Goals are printed as reached or not; the benchmark fails only when it measured nothing.
"""

from __future__ import annotations

import statistics
import threading
import time
import uuid

import httpx
import pytest
from django.test import Client

from lipsync_site.media import links
from tests.conftest import _user as make_user
from tests.webstack import Gunicorn, Nginx, fetch_discarding, site_env, sparse_asset

pytestmark = [pytest.mark.bench, pytest.mark.django_db(transaction=True)]

GIB = 1 << 30
ROUNDS = 5
SLOW_CLIENTS = 10
SLOW_RATE = 2_000_000
SLOW_SECONDS = 6.0
TRIVIAL = "/accounts/login/"


@pytest.fixture
def stacks(tmp_path, settings):
    media_root = tmp_path / "media"
    media_root.mkdir()
    settings.MEDIA_ROOT = media_root
    env = {"MEDIA_ROOT": str(media_root), "LIPSYNC_VAR_DIR": str(tmp_path / "var"), "S3_BUCKET": ""}
    proxied = Gunicorn(tmp_path / "p", _mk(tmp_path / "p", site_env(**env, MEDIA_SERVED_BY_PROXY="1")), workers=2)
    alone = Gunicorn(tmp_path / "a", _mk(tmp_path / "a", site_env(**env, MEDIA_SERVED_BY_PROXY="0")), workers=2)
    direct = f"        location /direct/ {{\n            alias {media_root}/;\n        }}\n"
    nginx = Nginx(tmp_path, upstream=f"127.0.0.1:{proxied.port}", media_root=media_root, extra_locations=direct)
    yield {"nginx": nginx, "proxied": proxied, "alone": alone, "media_root": media_root}
    nginx.stop()
    proxied.stop()
    alone.stop()


def _mk(path, env):
    path.mkdir(parents=True, exist_ok=True)
    return env


def slow_reader(url: str, cookies: dict, results: list) -> None:
    received, started = 0, time.monotonic()
    try:
        with httpx.stream("GET", url, cookies=cookies, timeout=30) as response:
            for chunk in response.iter_raw(64 * 1024):
                received += len(chunk)
                elapsed = time.monotonic() - started
                if elapsed >= SLOW_SECONDS:
                    break
                time.sleep(max(0.0, received / SLOW_RATE - elapsed))
    except httpx.HTTPError:
        pass  # cut off: counted by what arrived
    results.append(received / max(0.001, time.monotonic() - started))


def trivial_page_latencies(base: str, stop: threading.Event) -> list[float]:
    latencies = []
    with httpx.Client(base_url=base, timeout=10) as client:
        while not stop.is_set():
            started = time.monotonic()
            try:
                client.get(TRIVIAL)
                latencies.append(time.monotonic() - started)
            except httpx.HTTPError:
                latencies.append(10.0)
            stop.wait(0.1)
    return latencies


def slow_clients_with_probe(url_base: str, page_base: str, asset, user, cookies) -> tuple[list, list]:
    rates, stop = [], threading.Event()
    readers = [
        threading.Thread(
            target=slow_reader,
            args=(url_base + links.user_url(asset, links.Purpose.DOWNLOAD, user=user), cookies, rates),
        )
        for _ in range(SLOW_CLIENTS)
    ]
    probe_result = []
    probe = threading.Thread(target=lambda: probe_result.extend(trivial_page_latencies(page_base, stop)))
    probe.start()
    time.sleep(0.5)
    for reader in readers:
        reader.start()
    for reader in readers:
        reader.join(timeout=SLOW_SECONDS + 20)
    stop.set()
    probe.join(timeout=20)
    return rates, probe_result


def test_downloads_through_the_proxy(stacks):
    nginx, proxied, alone = stacks["nginx"], stacks["proxied"], stacks["alone"]
    user = make_user(f"bench-{uuid.uuid4().hex[:6]}")
    client = Client()
    client.force_login(user)
    cookies = {"sessionid": client.cookies["sessionid"].value}
    big = sparse_asset(user, GIB, stacks["media_root"])
    signed = nginx.url + links.user_url(big, links.Purpose.DOWNLOAD, user=user)
    direct = f"{nginx.url}/direct/{big.file.name}"
    streamed = alone.url + links.user_url(big, links.Purpose.DOWNLOAD, user=user)

    # 1. 1 GiB, interleaved rounds, best of each.
    fetch_discarding(signed, cookies=cookies)  # warm the page cache
    for _ in range(4):  # every worker has answered a link before memory is measured
        httpx.get(signed, cookies=cookies, headers={"Range": "bytes=0-0"})
    rss_before = proxied.worker_rss()
    timings = {"signed": [], "direct": []}
    body_timings = {"signed": [], "direct": []}
    first_bytes = []
    for _ in range(ROUNDS):
        for name, url in (("signed", signed), ("direct", direct)):
            status, headers, received, seconds = fetch_discarding(url, cookies=cookies)
            assert status == 200 and received == GIB, (name, status, received)
            timings[name].append(seconds)
            body_timings[name].append(seconds - headers["x-first-byte"])
            if name == "signed":
                first_bytes.append(headers["x-first-byte"])
    rss_signed = proxied.worker_rss() - rss_before
    alone_before = alone.worker_rss()
    status, _headers, received, python_seconds = fetch_discarding(streamed, cookies=cookies, timeout=300)
    rss_python = alone.worker_rss() - alone_before
    assert status == 200 and received == GIB
    rate = {name: GIB / min(values) / 1e6 for name, values in timings.items()}
    ratio = rate["signed"] / rate["direct"]
    body_ratio = min(body_timings["direct"]) / min(body_timings["signed"])

    # 2. Ten slow clients at once, and a trivial page meanwhile.
    slow = sparse_asset(user, 256 << 20, stacks["media_root"])
    rss_before = proxied.worker_rss()
    rates, latencies = slow_clients_with_probe(nginx.url, nginx.url, slow, user, cookies)
    rss_slow = proxied.worker_rss() - rss_before
    alone_rates, alone_latencies = slow_clients_with_probe(alone.url, alone.url, slow, user, cookies)

    assert len(rates) == SLOW_CLIENTS and latencies and alone_latencies, "measured nothing"
    p95 = sorted(latencies)[int(0.95 * (len(latencies) - 1))]
    alone_p95 = sorted(alone_latencies)[int(0.95 * (len(alone_latencies) - 1))]
    print(
        "\n== Downloads through nginx (deploy/nginx.conf, gunicorn 2 sync workers, filesystem media) ==\n"
        f"1 GiB signed link (X-Accel-Redirect): {rate['signed']:.0f} MB/s (best of {ROUNDS})\n"
        f"1 GiB nginx direct (public location): {rate['direct']:.0f} MB/s (best of {ROUNDS})\n"
        f"ratio signed/direct: {ratio:.2f}x (goal >= 0.9x: {'reached' if ratio >= 0.9 else 'NOT reached'})\n"
        f"  the link's checks (time to the answer's head, median): {statistics.median(first_bytes) * 1000:.0f} ms; "
        f"the bytes alone: {body_ratio:.2f}x\n"
        f"baseline, Python Range streamer via gunicorn alone: {GIB / python_seconds / 1e6:.0f} MB/s\n"
        f"worker RSS growth: signed {rss_signed / 1e6:+.1f} MB over {ROUNDS + 1} GiB; "
        f"Python streamer {rss_python / 1e6:+.1f} MB over 1 GiB\n"
        f"{SLOW_CLIENTS} clients at 2 MB/s through nginx: median rate {statistics.median(rates) / 1e6:.2f} MB/s; "
        f"trivial page p95 {p95 * 1000:.0f} ms, max {max(latencies) * 1000:.0f} ms over {len(latencies)} requests "
        f"(goal every answer < 100 ms: {'reached' if max(latencies) < 0.1 else 'NOT reached'})"
        f"; worker RSS {rss_slow / 1e6:+.1f} MB\n"
        f"baseline, same {SLOW_CLIENTS} clients on gunicorn alone: median rate "
        f"{statistics.median(alone_rates) / 1e6:.2f} MB/s; trivial page p95 {alone_p95 * 1000:.0f} ms, "
        f"max {max(alone_latencies) * 1000:.0f} ms"
    )
    assert rate["signed"] > 0 and rate["direct"] > 0
