"""Real nginx (Debian's, running deploy/nginx.conf) in front of a real gunicorn with
filesystem media: after the app checks a signed link it answers X-Accel-Redirect and nginx
sends the bytes, so ranges work, a tampered or revoked link is still a 404, a 1 GiB
download leaves the worker's memory flat, and a slow client outlives gunicorn's timeout."""

from __future__ import annotations

import socket
import time
import uuid
from urllib.parse import urlsplit

import httpx
import pytest
from django.test import Client

from lipsync_site.jobs.workflow.submit import provider_input_url
from lipsync_site.media import links
from lipsync_site.media.services import revoke_links
from tests import factories, mediafactory
from tests.conftest import _user as make_user
from tests.webstack import Gunicorn, Nginx, fetch_discarding, site_env, sparse_asset

# Low enough that a download streamed by a sync worker would be killed mid-way.
GUNICORN_TIMEOUT = 2
UPLOAD_MAX_MB = 8


@pytest.fixture(scope="module")
def stack(django_db_setup, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("nginx-stack")
    media_root = workdir / "media"
    media_root.mkdir()
    env = site_env(
        MEDIA_ROOT=str(media_root),
        LIPSYNC_VAR_DIR=str(workdir / "var"),
        MEDIA_SERVED_BY_PROXY="1",
        S3_BUCKET="",
    )
    gunicorn = Gunicorn(workdir, env, workers=1, timeout=GUNICORN_TIMEOUT)
    try:
        nginx = Nginx(
            workdir, upstream=f"127.0.0.1:{gunicorn.port}", media_root=media_root, upload_max=f"{UPLOAD_MAX_MB}m"
        )
    except BaseException:
        gunicorn.stop()
        raise
    nginx.gunicorn = gunicorn
    nginx.media_root = media_root
    yield nginx
    nginx.stop()
    gunicorn.stop()


@pytest.fixture
def viewer(stack, settings, transactional_db):
    """A signed-in member, and this test's media stored where nginx looks."""
    settings.MEDIA_ROOT = stack.media_root
    user = make_user(f"viewer-{uuid.uuid4().hex[:6]}", credits=100)
    client = Client()
    client.force_login(user)
    user.cookies = {"sessionid": client.cookies["sessionid"].value}
    return user


@pytest.fixture
def clip_asset(viewer, tmp_path):
    return factories.stored_file(viewer, mediafactory.make_video(tmp_path / "clip.mp4", seconds=1.0), "video")


def download_url(stack, asset, user) -> str:
    return stack.url + links.user_url(asset, links.Purpose.DOWNLOAD, user=user)


def test_a_range_request_gets_those_bytes_from_nginx(stack, viewer, clip_asset):
    stored = clip_asset.file.open("rb").read()
    response = httpx.get(
        download_url(stack, clip_asset, viewer), cookies=viewer.cookies, headers={"Range": "bytes=100-199"}
    )
    assert response.status_code == 206
    assert response.content == stored[100:200]
    assert response.headers["content-range"] == f"bytes 100-199/{len(stored)}"
    assert response.headers["content-type"] == "video/mp4"
    assert response.headers["content-disposition"].startswith("attachment")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["content-security-policy"] == "default-src 'none'; sandbox"
    assert "x-accel-redirect" not in response.headers


def test_a_tampered_link_is_a_404(stack, viewer, clip_asset):
    url = download_url(stack, clip_asset, viewer)
    token = url.rstrip("/").rsplit("/", 1)[1]
    tampered = url.replace(token, token[:-2] + ("AA" if not token.endswith("AA") else "BB"))
    response = httpx.get(tampered, cookies=viewer.cookies)
    assert response.status_code == 404 and str(clip_asset.id) not in response.text


def test_a_revoked_link_is_a_404(stack, viewer, clip_asset):
    url = download_url(stack, clip_asset, viewer)
    assert httpx.get(url, cookies=viewer.cookies).status_code == 200
    revoke_links(asset_ids=[clip_asset.pk])
    assert httpx.get(url, cookies=viewer.cookies).status_code == 404


def test_someone_elses_link_is_a_404(stack, viewer, clip_asset):
    assert httpx.get(download_url(stack, clip_asset, viewer)).status_code in (302, 404)  # signed out
    other = make_user(f"other-{uuid.uuid4().hex[:6]}")
    client = Client()
    client.force_login(other)
    response = httpx.get(
        download_url(stack, clip_asset, viewer), cookies={"sessionid": client.cookies["sessionid"].value}
    )
    assert response.status_code == 404


def test_the_internal_media_location_is_not_reachable_from_outside(stack, viewer, clip_asset):
    assert httpx.get(f"{stack.url}/_protected_media/{clip_asset.file.name}").status_code == 404


def test_a_provider_input_link_is_served_by_nginx(stack, viewer, clip_asset):
    job = factories.make_job(viewer, video=clip_asset, voice=clip_asset, route_id="sync-v2")
    path = urlsplit(provider_input_url(clip_asset, job_id=job.pk)).path
    response = httpx.get(stack.url + path)
    assert response.status_code == 200 and response.content == clip_asset.file.open("rb").read()
    # The access log keeps 8 characters of the token, never the whole of it.
    token = path.split("/inputs/")[1].split("/")[0]
    time.sleep(0.2)
    log = stack.access_log.read_text()
    assert token[:8] in log and token not in log
    factories.end(job)


def test_a_1_gib_download_runs_at_full_speed_with_the_worker_memory_flat(stack, viewer):
    size = 1 << 30
    asset = sparse_asset(viewer, size, stack.media_root)
    url = download_url(stack, asset, viewer)
    httpx.get(url, cookies=viewer.cookies, headers={"Range": "bytes=0-0"})  # the worker has served one
    before = stack.gunicorn.worker_rss()
    status, headers, received, seconds = fetch_discarding(url, cookies=viewer.cookies)
    assert status == 200 and int(headers["content-length"]) == size
    growth = stack.gunicorn.worker_rss() - before
    print(
        f"\n1 GiB through nginx in {seconds:.2f} s ({size / seconds / 1e6:.0f} MB/s); worker RSS +{growth / 1e6:.1f} MB"
    )
    assert received == size
    assert growth < 8 * 1024 * 1024
    assert seconds < 30


def test_a_client_reading_at_2_mb_per_second_is_not_cut_off(stack, viewer):
    asset = sparse_asset(viewer, 256 << 20, stack.media_root)
    rate, seconds = 2_000_000, GUNICORN_TIMEOUT * 2.5  # well past gunicorn's timeout
    received, started = 0, time.monotonic()
    with httpx.stream("GET", download_url(stack, asset, viewer), cookies=viewer.cookies, timeout=30) as response:
        assert response.status_code == 200
        for chunk in response.iter_raw(64 * 1024):
            received += len(chunk)
            elapsed = time.monotonic() - started
            if received >= rate * seconds:
                break
            time.sleep(max(0.0, received / rate - elapsed))  # read no faster than 2 MB/s
    elapsed = time.monotonic() - started
    assert received >= rate * seconds, f"cut off after {received} bytes in {elapsed:.1f} s"
    assert elapsed >= seconds * 0.9  # the client really was slow
    # The worker that answered is still the same one: nothing was killed for timing out.
    assert stack.gunicorn.proc.poll() is None


def test_a_request_body_over_the_cap_is_refused_by_nginx(stack):
    with socket.create_connection(("127.0.0.1", stack.port), timeout=10) as sock:
        sock.sendall(
            b"POST /jobs/new/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: multipart/form-data; boundary=x\r\n"
            + f"Content-Length: {(UPLOAD_MAX_MB + 1) * 1024 * 1024}\r\n\r\n".encode()
        )
        answer = sock.recv(4096)
    assert answer.startswith(b"HTTP/1.1 413")


def test_a_slow_upload_holds_no_worker_nginx_buffers_it_first(stack):
    # gunicorn has one sync worker here. An upload trickling in for longer than gunicorn's
    # timeout is nginx's to wait for; the worker meanwhile answers everyone else.
    declared = 1024 * 1024
    with socket.create_connection(("127.0.0.1", stack.port), timeout=30) as sock:
        sock.sendall(
            b"POST /jobs/new/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: multipart/form-data; boundary=x\r\n"
            + f"Content-Length: {declared}\r\n\r\n".encode()
        )
        sent, started = 0, time.monotonic()
        while time.monotonic() - started < GUNICORN_TIMEOUT * 1.5:
            sock.sendall(b"x" * 16 * 1024)
            sent += 16 * 1024
            page_started = time.monotonic()
            assert httpx.get(stack.url + "/accounts/login/", timeout=5).status_code == 200
            assert time.monotonic() - page_started < 1.0
            time.sleep(0.2)
        sock.sendall(b"x" * (declared - sent))
        answer = sock.recv(4096)
    assert answer.split(b"\r\n", 1)[0].split()[1] in (b"403", b"302", b"400")  # answered, by a live worker
    assert stack.gunicorn.proc.poll() is None


def test_metrics_are_for_this_machine_only(stack, transactional_db):
    assert httpx.get(stack.url + "/metrics").status_code == 200
    # Another address (the loopback range has many): refused by nginx.
    transport = httpx.HTTPTransport(local_address="127.0.0.2")
    with httpx.Client(transport=transport) as elsewhere:
        assert elsewhere.get(stack.url + "/metrics").status_code == 403
        assert elsewhere.get(stack.url + "/accounts/login/").status_code == 200
