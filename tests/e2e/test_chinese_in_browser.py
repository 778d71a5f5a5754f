"""A Chinese-speaking colleague in real headless Chromium: the sign-in page in English, the
switch to 简体中文, sign-in, a job made and run in Chinese against a real django-q2 worker,
and the job page read in Chinese. With STUDIO_SCREENSHOTS set, the form and the job page
are saved as docs/screenshots/*-zh.png."""

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from lipsync_site.consent import texts
from lipsync_site.credits.services import grant_credits
from lipsync_site.jobs.models import Job, Status
from tests import mediafactory
from tests.conftest import _user as make_user
from tests.e2e.test_first_job_in_browser import worker  # noqa: F401  (the fixture)
from tests.factories import workspace_of
from tests.i18n.test_pages_in_chinese import english_left

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def shoot(page, name):
    folder = os.environ.get("STUDIO_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


def test_switch_to_chinese_sign_in_and_run_a_job_in_chinese(page, live_server, worker, media_dir):  # noqa: F811
    user = make_user("xiaoli")
    grant_credits(workspace=workspace_of(user), amount=1000, reason="试用积分")
    clip = mediafactory.make_face_video(media_dir / "发布会.mp4", seconds=3.0, size=512)
    voice = mediafactory.make_audio(media_dir / "配音.mp3", seconds=3.0)

    page.goto(f"{live_server.url}/accounts/login/")
    assert page.locator("html").get_attribute("lang") == "en"
    page.select_option("#language-switch-signin select[name=language]", "zh-hans")
    page.wait_for_function("document.documentElement.lang === 'zh-hans'")
    assert "登录" in page.locator("h1").inner_text()
    page.fill("input[name=login]", "xiaoli")
    page.fill("input[name=password]", "pw-" + "xiaoli" * 2)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/jobs/")
    user.refresh_from_db()
    assert page.locator("nav").first.inner_text().count("新建任务") == 1

    page.goto(f"{live_server.url}/jobs/new/")
    assert page.locator("h1").inner_text() == "新建口型同步任务"
    page.set_input_files("input[name=source_video]", str(clip))
    page.set_input_files("input[name=voice_audio]", str(voice))
    page.wait_for_selector("input[name=video_asset]", state="attached")
    page.wait_for_selector("input[name=voice_assets]", state="attached")
    page.wait_for_selector("#preflight")
    assert "预检" in page.locator("#preflight").inner_text()
    page.check("input[name=route][value=local-draft]")
    page.fill("input[name=person_name]", "李小龙")
    page.check("input[name=likeness_consent]")
    page.check("input[name=voice_provenance][value=own]")
    page.check("input[name=no_misuse]")
    page.wait_for_selector("#start-job:not([disabled])")
    assert "冻结" in page.locator("#start-job").inner_text()
    assert texts.wording(language="zh-hans").likeness in page.locator("#consent-fieldset").inner_text()
    assert not english_left(page.content()), english_left(page.content())
    shoot(page, "new-job-desktop-zh")
    page.click("#start-job")

    page.wait_for_url(re.compile(r"/jobs/[0-9a-f-]{36}/$"))
    job = Job.objects.get(owner=user)
    try:
        page.wait_for_selector("#job-status[data-status=succeeded] video#result-player", timeout=90_000)
    except PlaywrightTimeout:
        events = "\n".join(str(event) for event in job.events.all())
        raise AssertionError(f"the job did not finish:\n{events}\n{worker.logs()}") from None
    job.refresh_from_db()
    assert job.status == Status.SUCCEEDED
    assert job.attestation.text_language == "zh-hans" and job.attestation.person_name == "李小龙"
    status = page.locator("#job-status").inner_text()
    assert "已成功" in status and "下载 MP4" in status and "口型同步检查" in status
    assert "任务已创建" in page.locator(".messages").inner_text()
    assert not english_left(page.content()), english_left(page.content())
    shoot(page, "job-desktop-zh")
