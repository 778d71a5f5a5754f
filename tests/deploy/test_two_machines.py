"""Two worker machines and a web machine that share only PostgreSQL, Redis and an S3
bucket (moto's server on loopback): each process has its own scratch directory and none
has the media directory. A batch of jobs (local renders and a simulated cloud route) is
made through the web form, runs to the end, and every output downloads; the ledger is
clean."""

from __future__ import annotations

import re
import time
import uuid
from pathlib import Path

import httpx
import pytest
import redis
from django.core.management import call_command
from django.test import Client

from lipsync_site.credits.models import Hold
from lipsync_site.jobs.models import Job, Status
from tests import mediafactory
from tests.conftest import _user as make_user
from tests.processes import Workers
from tests.webstack import Gunicorn, site_env

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

REDIS_URL = "redis://127.0.0.1:6379/1"  # the scale session's Redis database
ROUTES = ["local-draft", "local-draft", "sync-v2", "sync-v2"]  # sync-v2: RunComfy, simulated


def machine_env(base: dict[str, str], root: Path, name: str) -> dict[str, str]:
    """One machine: its own scratch directory, and a media directory that does not exist."""
    var = root / name
    var.mkdir()
    return {**base, "LIPSYNC_VAR_DIR": str(var), "MEDIA_ROOT": str(root / name / "no-media-here")}


@pytest.fixture
def machines(s3_storage, runcomfy_sim, tmp_path):
    assert redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping(), f"no Redis at {REDIS_URL}"
    shared = site_env(
        **s3_storage.env(),
        REDIS_URL=REDIS_URL,
        Q_SITE_NAME=f"two-machines-{uuid.uuid4().hex[:8]}",  # queues of its own on the shared Redis
        RUNCOMFY_API_KEY="",
        RUNCOMFY_SIMULATOR_URL=runcomfy_sim.base_url,
        PROVIDER_EXTRA_DOWNLOAD_HOSTS="127.0.0.1,localhost",
        PROVIDER_HTTP_TIMEOUT_SECONDS="5",
        JOBS_POLL_MIN_SECONDS="0.2",
        JOBS_POLL_MAX_SECONDS="0.5",
        Q_WORKERS="1",
    )
    web = Gunicorn(tmp_path, machine_env(shared, tmp_path, "web"), workers=2)
    shared["PUBLIC_BASE_URL"] = web.url  # where the simulated provider fetches its inputs
    logs = tmp_path / "logs"
    logs.mkdir()
    first = Workers(machine_env(shared, tmp_path, "machine-a"), logs)
    second = Workers(machine_env(shared, tmp_path, "machine-b"), logs)
    first.start("qcluster-a", "qcluster")
    first.start("tracker-a", "track_jobs", "--concurrency", "2", "--sweep-every", "1")
    second.start("qcluster-b", "qcluster")
    second.start_render_cluster()
    yield {"web": web, "workers": (first, second), "root": tmp_path, "bucket": s3_storage}
    first.stop_all()
    second.stop_all()
    web.stop()


def post_job(web_url: str, session: dict, route: str, clip: Path, voice: Path) -> str:
    with httpx.Client(base_url=web_url, cookies=session, timeout=60) as browser:
        form = browser.get("/jobs/new/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text).group(1)
        answer = browser.post(
            "/jobs/new/",
            data={
                "csrfmiddlewaretoken": token,
                "shape": "video_audio",
                "route": route,
                "mismatch_mode": "loop",
                "person_name": "Ada Example",
                "likeness_consent": "on",
                "voice_provenance": "own",
                "no_misuse": "on",
                "confirm_no_face": "on",
            },
            files={"source_video": ("clip.mp4", clip.read_bytes()), "voice_audio": ("voice.wav", voice.read_bytes())},
            headers={"Referer": web_url + "/jobs/new/"},
        )
    assert answer.status_code == 302, answer.text[-3000:]
    return answer.headers["location"]


def test_a_batch_runs_on_two_machines_sharing_only_postgres_redis_and_s3(machines, media_dir):
    web, bucket = machines["web"], machines["bucket"]
    owner = make_user("two-machines", credits=1000)
    client = Client()
    client.force_login(owner)
    session = {"sessionid": client.cookies["sessionid"].value}
    clips = [mediafactory.make_video(media_dir / f"clip{i}.mp4", seconds=1.0 + 0.25 * i) for i in range(2)]
    voice = mediafactory.make_audio(media_dir / "voice.wav", seconds=1.0)
    for index, route in enumerate(ROUTES):
        post_job(web.url, session, route, clips[index % 2], voice)

    jobs = Job.objects.filter(owner=owner)
    deadline = time.monotonic() + 240
    while jobs.exclude(status__in=[Status.SUCCEEDED, Status.FAILED, Status.CANCELLED]).exists():
        if time.monotonic() > deadline:
            logs = "\n".join(workers.logs() for workers in machines["workers"])
            pytest.fail(f"jobs still running: {list(jobs.values_list('status', flat=True))}\n{logs}")
        time.sleep(0.2)

    finished = list(jobs.select_related("output", "hold"))
    assert sorted(job.route_id for job in finished) == sorted(ROUTES)
    assert [job.status for job in finished] == [Status.SUCCEEDED] * len(ROUTES), [
        (job.route_id, job.error_message) for job in finished
    ]
    stored = set(bucket.names())
    for job in finished:
        assert job.hold.status == Hold.Status.CAPTURED
        assert job.output.file.name in stored  # in the bucket, where every machine finds it
        # Downloadable through the web machine: a presigned link to the bucket.
        partial = httpx.get(f"{web.url}/jobs/{job.pk}/status/", cookies=session, headers={"HX-Request": "true"})
        link = re.search(r'id="download-link" href="([^"]+)"', partial.text).group(1)
        redirect = httpx.get(web.url + link, cookies=session)
        assert redirect.status_code == 302 and redirect.headers["location"].startswith(bucket.endpoint)
        download = httpx.get(redirect.headers["location"])
        assert download.status_code == 200 and download.content == job.output.file.open("rb").read()

    # The renders ran on machine B, and no machine has (or needed) a media directory or
    # kept a scratch copy.
    render_log = (machines["root"] / "logs" / "renders-2.log").read_text(errors="replace")
    assert render_log.count("submit_job") >= ROUTES.count("local-draft"), render_log[-2000:]
    for name in ("web", "machine-a", "machine-b"):
        machine = machines["root"] / name
        assert not (machine / "no-media-here").exists(), f"{name} wrote to a local media directory"
        leftovers = [path for path in (machine / "scratch").rglob("*") if path.is_file()]
        assert not leftovers, f"{name} left scratch copies: {leftovers}"
    call_command("check_ledger")
