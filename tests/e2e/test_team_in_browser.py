"""A team in real Chromium: the owner invites a colleague, the colleague signs up from the
e-mail (read from the outbox), runs a job, and the owner sees it in the history."""

import re

import pytest
from django.core import mail

from lipsync_site.jobs.models import Job
from lipsync_site.workspaces.models import Membership
from tests import mediafactory
from tests.conftest import Team
from tests.factories import end

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "a-long-enough-passphrase-42"


def sign_in(page, base, login, password):
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=login]", login)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/jobs/")


def test_owner_invites_colleague_who_signs_up_and_runs_a_job_the_owner_sees(page, live_server, media_dir):
    base = live_server.url
    team = Team(credits=1000)
    clip = mediafactory.make_face_video(media_dir / "presenter.mp4", seconds=2.0)
    voice = mediafactory.make_audio(media_dir / "voiceover.wav", seconds=2.0)

    # The owner invites a colleague from the Members page.
    sign_in(page, base, "team-owner", "pw-" + "team-owner" * 2)
    assert page.locator("#workspace-switcher select option[selected]").inner_text() == "Acme marketing"
    page.click("text=Members")
    page.fill("#invite-form input[name=email]", "grace@example.com")
    page.select_option("#invite-form select[name=role]", "member")
    page.click("#invite-form button")
    page.wait_for_selector("text=Invitation sent to grace@example.com")

    # The colleague opens the link from the e-mail in a browser of her own.
    message = next(m for m in mail.outbox if m.to == ["grace@example.com"])
    link = re.search(r"https?://[^/\s]+(/workspaces/join/[^\s]+/)", message.body).group(1)
    colleague = page.context.browser.new_context().new_page()
    colleague.set_default_timeout(30_000)
    colleague.goto(base + link)
    assert "Join Acme marketing" in colleague.inner_text("#invitation")
    colleague.click("#signup-to-join")
    assert colleague.input_value("input[name=email]") == "grace@example.com"
    colleague.fill("input[name=username]", "grace")
    colleague.fill("input[name=password1]", PASSWORD)
    colleague.fill("input[name=password2]", PASSWORD)
    colleague.click("form button[type=submit]")
    colleague.wait_for_url(f"{base}/jobs/")
    assert Membership.objects.get(workspace=team.workspace, user__username="grace").role == "member"
    assert "Jobs in Acme marketing" in colleague.inner_text("main")

    # She runs a job with the workspace's credits.
    colleague.goto(f"{base}/jobs/new/")
    colleague.set_input_files("input[name=source_video]", str(clip))
    colleague.set_input_files("input[name=voice_audio]", str(voice))
    colleague.wait_for_selector("input[name=video_asset]", state="attached")
    colleague.wait_for_selector("input[name=voice_assets]", state="attached")
    colleague.check("input[name=route][value=local-draft]")
    colleague.fill("input[name=person_name]", "Grace Example")
    colleague.check("input[name=likeness_consent]")
    colleague.check("input[name=voice_provenance][value=own]")
    colleague.check("input[name=no_misuse]")
    colleague.wait_for_selector("#start-job:not([disabled])")
    colleague.click("#start-job")
    colleague.wait_for_url(re.compile(r"/jobs/[0-9a-f-]{36}/$"))
    job = Job.objects.get(owner__username="grace")
    assert job.workspace == team.workspace and job.hold.placed_by.username == "grace"

    # The owner sees it in the workspace's history, with who made it, and opens it.
    page.goto(f"{base}/jobs/")
    row = page.locator(f"tr:has(a[href='/jobs/{job.id}/'])")
    assert row.locator(".job-owner").inner_text() == "grace"
    row.locator("a").first.click()
    page.wait_for_url(f"{base}/jobs/{job.id}/")
    assert page.inner_text("#job-owner") == "grace"
    page.goto(f"{base}/credits/")
    assert "grace" in page.inner_text("#spending")
    end(job)
