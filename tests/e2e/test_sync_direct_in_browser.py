"""Sync Labs direct through the UI, in headless Chromium against the live site, a real
django-q2 worker and tracker, and the Sync simulator: a job settled by Sync's signed
webhook (the tracker is told not to poll), and one settled by polling (no webhook comes)."""

import os
import re

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from lipsync_site.credits.services import grant_credits
from lipsync_site.jobs.models import Job, Status
from lipsync_site.providers.simulators.pytest_fixtures import *  # noqa: F403 (the Sync simulator)
from tests import mediafactory
from tests.conftest import _user as make_user
from tests.factories import workspace_of
from tests.processes import Workers, database_env

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def start_workers(live_server, settings, tmp_path, sync_sim, *, poll: bool) -> Workers:
    logdir = tmp_path / "logs"
    logdir.mkdir()
    env = {
        **os.environ,
        **database_env(),
        "DJANGO_SETTINGS_MODULE": "lipsync_site.settings",
        "REDIS_URL": "",
        "Q_SITE_NAME": settings.Q_SITE_NAME,
        "LIPSYNC_VAR_DIR": str(settings.VAR_DIR),
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "PUBLIC_BASE_URL": live_server.url,
        "CONSENT_REVIEW_POLICY": "after",
        "Q_WORKERS": "1",
        "SYNC_API_KEY": "",
        "SYNC_SIMULATOR_URL": sync_sim.base_url,
        "PROVIDER_EXTRA_DOWNLOAD_HOSTS": "127.0.0.1,localhost",
        # Webhook run: the tracker would first poll in an hour, so only the webhook can settle it.
        "JOBS_POLL_MIN_SECONDS": "1" if poll else "3600",
        "JOBS_POLL_MAX_SECONDS": "2" if poll else "3600",
    }
    workers = Workers(env, logdir)
    workers.start_cluster()
    workers.start_tracker()
    return workers


def run_a_sync_job_through_the_form(page, live_server, media_dir, route_id: str) -> Job:
    user = make_user("dubber")
    grant_credits(workspace=workspace_of(user), amount=1000, reason="Demo account allowance")
    clip = mediafactory.make_face_video(media_dir / "presenter.mp4", seconds=3.0)
    voice = mediafactory.make_audio(media_dir / "voiceover.mp3", seconds=3.0)

    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=login]", "dubber")
    page.fill("input[name=password]", "pw-" + "dubber" * 2)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/jobs/")

    page.goto(f"{live_server.url}/jobs/new/")
    page.set_input_files("input[name=source_video]", str(clip))
    page.set_input_files("input[name=voice_audio]", str(voice))
    page.wait_for_selector("input[name=video_asset]", state="attached")
    page.wait_for_selector("input[name=voice_assets]", state="attached")
    page.check(f"input[name=route][value={route_id}]")
    page.fill("input[name=person_name]", "Ada Example")
    page.check("input[name=likeness_consent]")
    page.check("input[name=voice_provenance][value=own]")
    page.check("input[name=no_misuse]")
    page.wait_for_selector("#start-job:not([disabled])")
    page.click("#start-job")
    page.wait_for_url(re.compile(r"/jobs/[0-9a-f-]{36}/$"))
    return Job.objects.get(owner=user)


def wait_for_the_result(page, job, workers):
    try:
        page.wait_for_selector("#job-status[data-status=succeeded] video#result-player", timeout=90_000)
    except PlaywrightTimeout:
        events = "\n".join(str(event) for event in job.events.all())
        raise AssertionError(f"the job did not finish:\n{events}\n{workers.logs()}") from None
    job.refresh_from_db()
    assert job.status == Status.SUCCEEDED
    download = page.request.get(page.url.split("/jobs/")[0] + page.locator("a#download-link").get_attribute("href"))
    assert download.status == 200 and download.body() == job.output.file.open("rb").read()


@pytest.fixture
def browser_sync_sim(sync_sim):
    sync_sim.pending_seconds = 0.5
    return sync_sim


def test_a_sync_job_settled_by_its_signed_webhook(page, live_server, settings, tmp_path, media_dir, browser_sync_sim):
    workers = start_workers(live_server, settings, tmp_path, browser_sync_sim, poll=False)
    try:
        job = run_a_sync_job_through_the_form(page, live_server, media_dir, "sync-direct-2-pro")
        wait_for_the_result(page, job, workers)
    finally:
        workers.stop_all()
    # The webhook did it: at most the hand-over's first poll ran (the next was an hour away).
    assert job.events.filter(message="The provider reported the request succeeded.").exists()
    assert job.poll_count <= 1
    (generation,) = browser_sync_sim.generations.values()
    assert generation.body["webhookUrl"] == f"{live_server.url}/jobs/hooks/sync/"
    assert generation.body["options"]["active_speaker_detection"] == {"auto_detect": True}
    assert [record["status"] for record in browser_sync_sim.deliveries] == [200]


def test_a_sync_job_settled_by_polling_when_no_webhook_comes(
    page, live_server, settings, tmp_path, media_dir, browser_sync_sim
):
    browser_sync_sim.webhook_mode = "none"
    workers = start_workers(live_server, settings, tmp_path, browser_sync_sim, poll=True)
    try:
        job = run_a_sync_job_through_the_form(page, live_server, media_dir, "sync-direct-2")
        wait_for_the_result(page, job, workers)
    finally:
        workers.stop_all()
    assert job.poll_count > 0
    assert browser_sync_sim.deliveries == []
