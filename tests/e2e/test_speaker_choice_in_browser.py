"""Two people in frame, in real Chromium: the form shows the picture with each face outlined
and numbered, Start waits for a choice, a click on a face chooses it, and the job records
who speaks."""

import os
import re
from pathlib import Path

import pytest
from django.test import Client
from playwright.sync_api import expect

from lipsync_site.jobs.models import Job
from tests import mediafactory
from tests.conftest import _user as make_user
from tests.factories import end

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in(page, live_server, user):
    client = Client()
    client.force_login(user)
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )


def test_clicking_a_face_chooses_who_speaks(page, live_server, media_dir):
    user = make_user("director", credits=1000)
    clip = mediafactory.make_presenter_clip(
        media_dir / "interview.mp4", width=960, height=540, seconds=2.0, face_height=0.3, faces=2
    )
    voice = mediafactory.make_speech(media_dir / "voix-off.wav", seconds=2.0)
    sign_in(page, live_server, user)
    page.goto(f"{live_server.url}/jobs/new/")
    page.set_input_files("input[name=source_video]", str(clip))
    page.set_input_files("input[name=voice_audio]", str(voice))
    page.wait_for_selector("#field-speaker .speaker-face", timeout=60_000)

    faces = page.locator("#field-speaker .speaker-face")
    expect(faces).to_have_count(2)
    assert [faces.nth(i).inner_text().strip() for i in range(2)] == ["1", "2"]
    # Outlined where the faces are: the first on the left half of the picture, the second on the right.
    left, right = faces.nth(0).bounding_box(), faces.nth(1).bounding_box()
    poster = page.locator("#field-speaker .speaker-poster img").bounding_box()
    assert left["x"] + left["width"] / 2 < poster["x"] + poster["width"] / 2 < right["x"] + right["width"] / 2

    page.check("input[name=route][value=local-draft]")
    page.fill("input[name=person_name]", "Ada Example")
    page.check("input[name=likeness_consent]")
    page.check("input[name=voice_provenance][value=own]")
    page.check("input[name=no_misuse]")
    expect(page.locator("#start-job")).to_be_disabled()
    assert "click the face" in page.locator("#start-why, .start-row").first.inner_text()

    faces.nth(0).click()
    page.wait_for_selector("#field-speaker .speaker-face.chosen")
    if os.environ.get("STUDIO_SCREENSHOTS"):
        page.locator("#field-speaker").screenshot(
            path=str(Path(os.environ["STUDIO_SCREENSHOTS"]) / "speaker-choice.png")
        )
    expect(page.locator("#field-speaker input[name=speaker][value='1']")).to_be_checked()
    assert "Face 1 speaks" in page.locator("#field-speaker").inner_text()
    page.wait_for_selector("#start-job:not([disabled])")
    page.click("#start-job")
    page.wait_for_url(re.compile(r"/jobs/[0-9a-f-]{36}/$"))
    job = Job.objects.get(owner=user)
    assert job.speaker_index == 1 and len(job.options["speaker_box"]) == 4
    end(job)
