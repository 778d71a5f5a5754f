"""A double click or a resubmitted new-job page creates the job(s) once: the form carries a
one-time key, and the second Start gets the jobs the first one made (no second hold)."""

import pytest
from django.urls import reverse

from lipsync_site.credits.models import Hold
from lipsync_site.jobs.models import Job
from tests.factories import upload
from tests.jobs.test_new_job_flow import consent, hidden

pytestmark = pytest.mark.django_db


def checked(client, clip, *voices):
    html = client.post(
        reverse("jobs:new"),
        {
            "shape": "video_audio",
            "step": "check",
            "source_video": upload(clip),
            "voice_audio": [upload(v) for v in voices],
        },
    ).content.decode()
    once = hidden(html, "once")
    assert len(once) == 1 and len(once[0]) == 32
    return {
        "shape": "video_audio",
        "step": "start",
        "confirm_no_face": "on",
        "route": "local-draft",
        "video_asset": hidden(html, "video_asset"),
        "voice_assets": hidden(html, "voice_assets"),
        "once": once[0],
    }


def test_starting_the_same_form_twice_creates_one_job(owner_client, owner, clip, voice):
    data = {**checked(owner_client, clip, voice), **consent()}
    first = owner_client.post(reverse("jobs:new"), data)
    second = owner_client.post(reverse("jobs:new"), data)
    job = Job.objects.get()
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"] == reverse("jobs:detail", args=[job.id])
    assert Hold.objects.count() == 1


def test_a_resubmitted_batch_creates_its_jobs_once(owner_client, owner, clip, media_dir):
    from tests import mediafactory

    voices = [
        mediafactory.make_audio(media_dir / f"{lang}.wav", seconds=2.0, freq=f)
        for lang, f in (("fr", 220), ("de", 330))
    ]
    data = {**checked(owner_client, clip, *voices), **consent()}
    for _ in range(2):
        assert owner_client.post(reverse("jobs:new"), data).status_code == 302
    assert Job.objects.count() == 2 and Hold.objects.count() == 2


def test_a_refused_start_keeps_its_key_for_the_corrected_one(owner_client, owner, clip, voice):
    data = checked(owner_client, clip, voice)
    refused = owner_client.post(reverse("jobs:new"), {**data, **consent(likeness_consent=None)})
    assert refused.status_code == 400 and not Job.objects.exists()
    assert hidden(refused.content.decode(), "once") == [data["once"]]
    assert owner_client.post(reverse("jobs:new"), {**data, **consent()}).status_code == 302
    assert Job.objects.count() == 1


def test_a_fresh_form_gets_a_fresh_key(owner_client):
    keys = {hidden(owner_client.get(reverse("jobs:new")).content.decode(), "once")[0] for _ in range(2)}
    assert len(keys) == 2


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_double_click_racing_itself_creates_one_job(live_server, owner, clip, voice):
    """Two Starts of one form at the same moment, over real HTTP: the second waits on the
    key's row and answers with the first one's job."""
    from concurrent.futures import ThreadPoolExecutor

    import httpx
    from django.test import Client

    browser = Client()
    browser.force_login(owner)
    data = {**checked(browser, clip, voice), **consent()}
    cookies = {"sessionid": browser.cookies["sessionid"].value, "csrftoken": "x" * 32}
    headers = {"X-CSRFToken": "x" * 32, "Referer": live_server.url}

    def start(_):
        with httpx.Client(base_url=live_server.url, cookies=cookies, headers=headers, trust_env=False) as http:
            return http.post(reverse("jobs:new"), data=data)

    with ThreadPoolExecutor(max_workers=3) as pool:
        answers = list(pool.map(start, range(3)))
    job = Job.objects.get()
    assert [answer.status_code for answer in answers] == [302] * 3, [answer.text[:300] for answer in answers]
    assert {answer.headers["Location"] for answer in answers} == {reverse("jobs:detail", args=[job.id])}
    assert Hold.objects.count() == 1


def test_the_sweep_forgets_keys_after_a_day(owner_client, owner, clip, voice):
    from datetime import timedelta

    from django.utils import timezone

    from lipsync_site.jobs.models import IdempotencyKey
    from lipsync_site.jobs.sweep import sweep

    owner_client.post(reverse("jobs:new"), {**checked(owner_client, clip, voice), **consent()})
    assert sweep()["expired_keys"] == 0 and IdempotencyKey.objects.count() == 1
    assert sweep(timezone.now() + timedelta(hours=25))["expired_keys"] == 1
    assert not IdempotencyKey.objects.exists()
