"""The studio in real headless Chromium: a marketer finds last week's French dub by search
and filter, compares it with the Kling version side by side (the players stay in step),
marks one approved and runs the other again on the local draft; history rows update live;
uploads show progress and can be cancelled; a chosen file or a typed script survives the
form's refresh; the job page refreshes itself without JavaScript; phones get a layout of
their own. ``STUDIO_SCREENSHOTS=docs/screenshots`` writes the README's screenshots."""

import os
import re
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse
from playwright.sync_api import expect

from lipsync_site.jobs.models import EventKind, Job, Status
from lipsync_site.media.models import Asset
from tests import factories, mediafactory, studio
from tests.conftest import _user as make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def marketer(db):
    return make_user("marketer", credits=1000)


def sign_in(page, live_server, user):
    client = Client()
    client.force_login(user)
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )


@pytest.fixture
def library(marketer, media_dir):
    """Last week's work: a French dub on Sync v2 Pro and on Kling (both delivered), a German
    draft that failed, one job still in flight."""
    picture = factories.stored_file(
        marketer, mediafactory.make_face_video(media_dir / "launch.mp4", seconds=3.0), "video"
    )
    voice = factories.stored_file(marketer, mediafactory.make_audio(media_dir / "voice-fr.wav", seconds=3.0), "audio")
    outputs = [
        factories.stored_file(marketer, mediafactory.make_face_video(media_dir / f"out{i}.mp4", seconds=3.0), "video")
        for i in range(2)
    ]

    def job(title, route_id, **kwargs):
        made = factories.make_job(marketer, video=picture, voice=voice, route_id=route_id, seconds=3.0)
        return studio.titled(made, title, names=["launch.mp4", "voice-fr.wav"], **kwargs)

    french = studio.deliver(job("Spring launch French dub", "sync-v2-pro"), outputs[0], score=0.82, drift=0.0)
    kling = studio.deliver(job("Spring launch French Kling", "kling-lipsync-audio"), outputs[1], score=0.64, drift=-0.2)
    german = job("Spring launch German draft", "local-draft")
    factories.end(german, "The draft engine stopped.")
    running = job("Spring launch Spanish dub", "sync-v2")
    # The poster frame creation takes from the source video (intake makes one per upload).
    poster = factories.stored_file(
        marketer, mediafactory.make_image(media_dir / "poster.png", picture=mediafactory.astronaut()), "image"
    )
    Job.objects.filter(owner=marketer).update(poster=poster)
    return {"french": french, "kling": kling, "german": german, "running": running}


def shoot(page, name):
    folder = os.environ.get("STUDIO_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


def test_find_compare_approve_and_run_again(page, live_server, marketer, library):
    sign_in(page, live_server, marketer)
    page.goto(f"{live_server.url}/jobs/")
    expect(page.locator("#history tbody tr")).to_have_count(4)
    expect(page.locator("#history img.thumb")).to_have_count(4)
    shoot(page, "history-desktop")

    page.fill("input[name=q]", "French")
    page.press("input[name=q]", "Enter")
    page.wait_for_url(re.compile(r"q=French"))
    expect(page.locator("#history tbody tr")).to_have_count(2)
    page.select_option("select[name=state]", "succeeded")  # applies at once
    page.wait_for_url(re.compile(r"q=French.*state=succeeded"))
    expect(page.locator("#history-count")).to_contain_text("2 jobs match")
    page.go_back()
    page.wait_for_url(re.compile(r"q=French$"))
    page.go_forward()
    page.wait_for_url(re.compile(r"state=succeeded"))

    page.check(f"input[name=job][value='{library['french'].id}']")
    expect(page.locator("#compare-selected")).to_be_disabled()
    page.check(f"input[name=job][value='{library['kling'].id}']")
    page.click("#compare-selected")
    page.wait_for_url(re.compile(r"/jobs/compare/\?job="))
    players = page.locator("video.compare-player")
    expect(players).to_have_count(2)
    french, kling = (f"article[data-job='{library[name].id}']" for name in ("french", "kling"))
    expect(page.locator(f"{french} [data-fact=route]")).to_have_text("Sync Labs sync v2 Pro")
    expect(page.locator(f"{kling} [data-fact=route]")).to_have_text("Kling lip-sync (audio)")
    expect(page.locator(f"{kling} [data-fact=drift]")).to_contain_text("-0.2 s")
    expect(page.locator("#compare-grid")).to_contain_text("0.82")
    page.wait_for_function("() => [...document.querySelectorAll('video.compare-player')].every(v => v.readyState >= 1)")
    shoot(page, "compare-desktop")

    # Seek with the shared bar: both players land within 0.1 s of each other.
    page.locator("#compare-seek").evaluate("el => { el.value = 600; el.dispatchEvent(new Event('input')); }")
    page.wait_for_function("() => [...document.querySelectorAll('video.compare-player')].every(v => !v.seeking)")
    times = players.evaluate_all("vs => vs.map(v => v.currentTime)")
    assert times[0] == pytest.approx(1.8, abs=0.15) and abs(times[0] - times[1]) <= 0.1
    # Seek one player with its own controls: the other follows.
    players.first.evaluate("v => { v.currentTime = 0.7; }")
    page.wait_for_function(
        "() => { const [a, b] = document.querySelectorAll('video.compare-player');"
        " return !a.seeking && !b.seeking && Math.abs(b.currentTime - 0.7) <= 0.1; }"
    )
    # Play together, pause together, still within 0.1 s.
    page.click("#compare-play")
    page.wait_for_function("() => [...document.querySelectorAll('video.compare-player')].every(v => !v.paused)")
    page.wait_for_timeout(600)
    page.click("#compare-play")
    page.wait_for_function(
        "() => [...document.querySelectorAll('video.compare-player')].every(v => v.paused && !v.seeking)"
    )
    times = players.evaluate_all("vs => vs.map(v => v.currentTime)")
    assert abs(times[0] - times[1]) <= 0.1 and times[0] > 0.7

    # Approve the Sync version from the compare page; history filters on it.
    page.locator(f"article[data-job='{library['french'].id}'] button[value=approved]").click()
    page.wait_for_url(re.compile(r"/jobs/compare/"))
    expect(page.locator(f"article[data-job='{library['french'].id}'] [data-fact=review]")).to_contain_text("Approved")
    page.goto(f"{live_server.url}/jobs/?verdict=approved")
    expect(page.locator("#history tbody tr")).to_have_count(1)
    expect(page.locator("#history tbody tr")).to_contain_text("Spring launch French dub")

    # Run the Kling version again, on the local draft.
    page.goto(f"{live_server.url}/jobs/{library['kling'].id}/")
    page.click("#run-again")
    expect(page.locator("#rerun-note")).to_be_visible()
    expect(page.locator("input[name=person_name]")).to_have_value("Ada Example")
    expect(page.locator("input[name=likeness_consent]")).not_to_be_checked()
    page.check("input[name=route][value=local-draft]")
    page.wait_for_selector("input[name=route][value=local-draft]:checked")
    page.check("input[name=likeness_consent]")
    page.check("input[name=no_misuse]")
    page.wait_for_selector("#start-job:not([disabled])")
    page.click("#start-job")
    page.wait_for_url(re.compile(r"/jobs/[0-9a-f-]{36}/$"))
    again = Job.objects.filter(owner=marketer).order_by("-created_at").first()
    assert again.route_id == "local-draft" and again.source_video_id == library["kling"].source_video_id
    assert again.attestation_id != library["kling"].attestation_id
    factories.end(again)


def test_history_rows_follow_jobs_in_flight_without_a_reload(page, live_server, marketer, library):
    sign_in(page, live_server, marketer)
    page.goto(f"{live_server.url}/jobs/")
    row = page.locator(f"#job-row-{library['running'].id}")
    expect(row).to_have_attribute("data-status", "queued")
    assert page.locator("#history-live").get_attribute("data-in-flight") == "1"
    job = library["running"]
    job.transition(Status.SUBMITTING, kind=EventKind.SUBMIT_STARTED, message="tests")
    job.transition(Status.RUNNING, kind=EventKind.RUN_STARTED, message="tests")
    expect(row).to_have_attribute("data-status", "running", timeout=10_000)
    expect(row).to_contain_text("Running")
    factories.end(job)
    expect(row).to_have_attribute("data-status", "failed", timeout=10_000)
    expect(row.locator("[data-credits]")).to_have_attribute("data-credits", "released")
    # Nothing left in flight: the poller is gone.
    expect(page.locator("#history-live")).to_have_attribute("data-in-flight", "0")
    assert page.locator("#history-live[hx-get]").count() == 0


def test_upload_shows_progress_and_speed_and_can_be_cancelled(page, live_server, marketer, media_dir):
    big = mediafactory.make_audio(media_dir / "long-voice.wav", seconds=240.0, rate=48_000)  # about 23 MB
    sign_in(page, live_server, marketer)
    page.goto(f"{live_server.url}/jobs/new/")
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 5, "downloadThroughput": -1, "uploadThroughput": 3 * 1024 * 1024},
    )
    page.set_input_files("input[name=voice_audio]", str(big))
    figures = page.locator("#upload-voice_audio .upload-figures")
    expect(figures).to_have_text(re.compile(r"^\d+% · [\d.]+ MB of [\d.]+ MB · [\d.]+ MB/s$"), timeout=10_000)
    shoot(page, "upload-progress")
    page.click("#upload-voice_audio .upload-cancel")
    expect(page.locator("#upload-voice_audio .upload-error")).to_contain_text("Upload cancelled")
    assert not Asset.objects.filter(owner=marketer, kind="audio").exists()

    cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1},
    )
    page.set_input_files("input[name=voice_audio]", str(big))
    page.wait_for_selector("input[name=voice_assets]", state="attached", timeout=60_000)
    expect(page.locator(".stored svg.waveform")).to_be_visible()
    assert Asset.objects.filter(owner=marketer, kind="audio").count() == 1


def test_a_chosen_file_and_a_typed_script_survive_the_forms_refresh(page, live_server, marketer, media_dir):
    clip = mediafactory.make_face_video(media_dir / "presenter.mp4", seconds=3.0, size=720)
    voice = mediafactory.make_audio(media_dir / "voice.wav", seconds=3.0)
    sign_in(page, live_server, marketer)
    page.goto(f"{live_server.url}/jobs/new/")
    # The voice's file dialog was opened before the video's check came back and refreshed
    # the form: the file chosen in it still counts.
    voice_input = page.query_selector("input[name=voice_audio]")
    page.set_input_files("input[name=source_video]", str(clip))
    page.wait_for_selector("input[name=video_asset]", state="attached")
    page.wait_for_selector("#preflight")
    voice_input.set_input_files(str(voice))
    page.wait_for_selector("input[name=voice_assets]", state="attached")
    expect(page.locator("#media-lengths [data-length]")).to_have_count(2)
    expect(page.locator(".stored img.preview")).to_be_visible()
    shoot(page, "new-job-desktop")

    # Typing while a check is in flight: the refresh does not wipe what was typed after.
    page.check("input[name=shape][value=video_script]")
    page.wait_for_selector("textarea[name=script]")
    expect(page.locator("#script-limit")).to_contain_text("120 characters")
    page.fill("textarea[name=script]", "Welcome to the spring launch")
    page.set_input_files("input[name=source_video]", str(clip))  # a check starts
    page.type("textarea[name=script]", ", in French and German!", delay=30)
    page.wait_for_selector("#field-route .routes")
    page.wait_for_load_state("networkidle")
    expect(page.locator("textarea[name=script]")).to_have_value("Welcome to the spring launch, in French and German!")
    expect(page.locator("#script-count")).to_contain_text("51 / 120")


def test_job_page_refreshes_itself_without_javascript(page, live_server, marketer, library):
    context = page.context.browser.new_context(java_script_enabled=False)
    client = Client()
    client.force_login(marketer)
    context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}])
    plain = context.new_page()
    job = library["running"]
    plain.goto(f"{live_server.url}/jobs/{job.id}/")
    assert plain.locator("noscript").first.inner_html().count('http-equiv="refresh"') == 1
    expect(plain.locator("#job-status")).to_have_attribute("data-status", "queued")
    factories.end(job, "The provider could not produce this video.")
    expect(plain.locator("#job-status")).to_have_attribute("data-status", "failed", timeout=15_000)
    expect(plain.locator("#job-status")).to_contain_text("The provider could not produce this video.")
    context.close()


def test_phone_layout_and_screenshots(page, live_server, marketer, library):
    sign_in(page, live_server, marketer)
    page.set_viewport_size(PHONE)
    for name, path in (
        ("history-phone", "/jobs/"),
        ("compare-phone", f"/jobs/compare/?job={library['french'].id}&job={library['kling'].id}"),
        ("new-job-phone", "/jobs/new/"),
    ):
        page.goto(live_server.url + path)
        # Nothing wider than the screen, and the header stays one line.
        assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]
        assert page.locator("header.topbar").bounding_box()["height"] < 70
        shoot(page, name)
    page.goto(f"{live_server.url}/jobs/")
    card = page.locator(f"#job-row-{library['french'].id}").bounding_box()
    assert card["width"] <= PHONE["width"]
    page.set_viewport_size(DESKTOP)
    page.goto(f"{live_server.url}/jobs/new/")
    expect(page.locator("#start-job")).to_be_disabled()
    # The disabled Start looks disabled: grey, and the cursor says so.
    style = page.locator("#start-job").evaluate(
        "b => [getComputedStyle(b).cursor, getComputedStyle(b).backgroundColor]"
    )
    assert style[0] == "not-allowed" and style[1] != "rgb(79, 70, 229)"
    assert reverse("jobs:new") in page.url


def test_a_file_over_the_limit_is_refused_before_it_is_sent(page, live_server, marketer, media_dir, settings):
    settings.MEDIA_UPLOAD_MAX_BYTES = 100 * 1024
    voice = mediafactory.make_audio(media_dir / "voice.wav", seconds=5.0)  # about 430 KB
    sign_in(page, live_server, marketer)
    page.goto(f"{live_server.url}/jobs/new/")
    requests = []
    page.on("request", lambda request: requests.append(request.url))
    page.set_input_files("input[name=voice_audio]", str(voice))
    expect(page.locator("#upload-voice_audio .upload-error")).to_contain_text("the upload limit is 0.1 MB")
    assert not [url for url in requests if "/jobs/new/" in url]
