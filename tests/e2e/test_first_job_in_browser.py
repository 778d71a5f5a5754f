"""A new user's first job, in real headless Chromium against the live site and a real
django-q2 worker process: sign in, upload a clip and a voice, consent, start, watch the
progress bar, get the player, seek it, download the result."""

import os
import re

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from lipsync_site.credits.models import CreditAccount
from lipsync_site.credits.services import grant_credits
from lipsync_site.jobs.models import Job, Status
from tests import mediafactory
from tests.conftest import _user as make_user
from tests.factories import workspace_of
from tests.processes import Workers, database_env

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def worker(live_server, settings, tmp_path):
    """A real django-q2 cluster and tracker, as ``make run`` starts them, on the test database."""
    logdir = tmp_path / "logs"
    logdir.mkdir()
    env = {
        **os.environ,
        **database_env(),
        "DJANGO_SETTINGS_MODULE": "lipsync_site.settings",
        "REDIS_URL": "",
        # The same queue the live site enqueues on (its settings were read at start-up).
        "Q_SITE_NAME": settings.Q_SITE_NAME,
        "LIPSYNC_VAR_DIR": str(settings.VAR_DIR),
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "PUBLIC_BASE_URL": live_server.url,
        "CONSENT_REVIEW_POLICY": "after",
        "Q_WORKERS": "1",
    }
    workers = Workers(env, logdir)
    workers.start_cluster()
    workers.start_tracker()
    yield workers
    workers.stop_all()


def test_first_job_from_sign_in_to_seeking_the_result(page, live_server, worker, media_dir):
    user = make_user("newcomer")
    grant_credits(workspace=workspace_of(user), amount=1000, reason="Demo account allowance")
    # A face the size a presenter's is in real footage (the landmarks need the lips to be
    # more than a few pixels across to say whether they move).
    clip = mediafactory.make_face_video(media_dir / "presenter.mp4", seconds=3.0, size=512)
    voice = mediafactory.make_audio(media_dir / "voiceover.mp3", seconds=3.0)

    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=login]", "newcomer")
    page.fill("input[name=password]", "pw-" + "newcomer" * 2)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/jobs/")

    page.goto(f"{live_server.url}/jobs/new/")
    page.set_input_files("input[name=source_video]", str(clip))
    page.set_input_files("input[name=voice_audio]", str(voice))
    page.wait_for_selector("input[name=video_asset]", state="attached")
    page.wait_for_selector("input[name=voice_assets]", state="attached")
    page.check("input[name=route][value=local-draft]")
    page.fill("input[name=person_name]", "Ada Example")
    page.check("input[name=likeness_consent]")
    page.check("input[name=voice_provenance][value=own]")
    page.check("input[name=no_misuse]")
    page.wait_for_selector("#start-job:not([disabled])")
    page.click("#start-job")

    page.wait_for_url(re.compile(r"/jobs/[0-9a-f-]{36}/$"))
    job = Job.objects.get(owner=user)
    assert page.locator("#job-status progress#job-progress").count() == 1
    try:
        page.wait_for_selector("#job-status[data-status=succeeded] video#result-player", timeout=90_000)
    except PlaywrightTimeout:
        events = "\n".join(str(event) for event in job.events.all())
        raise AssertionError(f"the job did not finish:\n{events}\n{worker.logs()}") from None
    assert page.locator("#job-progress").get_attribute("value") == "100"
    assert page.locator("#lipsync-check").get_attribute("data-check") == "moving"
    assert page.locator("video#result-player").get_attribute("poster")

    player = page.locator("video#result-player")
    player.evaluate("v => new Promise(r => v.readyState >= 1 ? r() : v.addEventListener('loadedmetadata', r))")
    assert player.evaluate("v => v.duration") == pytest.approx(3.0, abs=0.1)
    seeked_to = player.evaluate(
        "v => new Promise(r => {"
        " v.addEventListener('seeked', () => r(v.currentTime), {once: true}); v.currentTime = 2; })"
    )
    assert seeked_to == pytest.approx(2.0, abs=0.1)

    download = page.request.get(live_server.url + page.locator("a#download-link").get_attribute("href"))
    assert download.status == 200
    assert download.headers["content-disposition"].startswith("attachment")
    job.refresh_from_db()
    assert download.body() == job.output.file.open("rb").read()

    assert job.status == Status.SUCCEEDED and job.mouth_moving
    assert CreditAccount.objects.get(workspace=workspace_of(user)).balance == 1000 - job.charged_credits
    page.goto(f"{live_server.url}/credits/")
    assert page.locator("#credits-available").inner_text() == str(1000 - job.charged_credits)
