"""The new-job form in headless Chromium: htmx uploads each file as it is chosen, swaps in
preflight, routes and cost, and the start button creates the jobs."""

import os

import pytest

from lipsync_site.credits.services import grant_credits
from lipsync_site.jobs.models import Job
from tests import mediafactory
from tests.conftest import _user as make_user
from tests.factories import workspace_of

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in(page, live_server):
    user = make_user("browser")
    grant_credits(workspace=workspace_of(user), amount=100, reason="test")
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=login]", "browser")
    page.fill("input[name=password]", "pw-" + "browser" * 2)
    page.click("button[type=submit], input[type=submit]")
    return user


def test_portrait_and_three_voices_through_htmx(page, live_server, media_dir):
    user = sign_in(page, live_server)
    portrait = mediafactory.make_image(media_dir / "face.png", picture=mediafactory.astronaut())
    voices = [
        mediafactory.make_audio(media_dir / f"{lang}.wav", seconds=6.0, freq=f)
        for lang, f in (("en", 200), ("fr", 240), ("de", 280))
    ]
    page.goto(f"{live_server.url}/jobs/new/")
    page.check("input[name=shape][value=portrait_audio]")  # htmx swaps in the portrait fields
    page.wait_for_selector("input[name=portrait]")
    page.set_input_files("input[name=portrait]", str(portrait))
    page.wait_for_selector("input[name=portrait_asset]", state="attached")
    page.set_input_files("input[name=voice_audio]", [str(voice) for voice in voices])
    page.wait_for_selector("text=18 credits")
    assert page.locator("#preflight [data-level=block]").count() == 0
    assert page.locator("input[name=voice_assets]").count() == 3
    if os.environ.get("SCREENSHOT_DIR"):
        page.screenshot(path=os.path.join(os.environ["SCREENSHOT_DIR"], "new-job.png"), full_page=True)
    page.fill("input[name=person_name]", "Ada Example")
    page.check("input[name=likeness_consent]")
    page.check("input[name=voice_provenance][value=own]")
    page.check("input[name=no_misuse]")
    page.click("#start-job")
    page.wait_for_url(f"{live_server.url}/jobs/")
    assert Job.objects.filter(owner=user).count() == 3
