"""The new-job form as a marketer meets it: a real result suggested when the cloud is
simulated, uploads that answer with stored ids, running a job again, consent worded for
what each kind of job involves, limits and lengths said before anyone checks."""

import re

import pytest
from django.urls import reverse

from lipsync_site.consent import texts
from lipsync_site.jobs.models import Job
from lipsync_site.media.models import Asset
from tests import mediafactory, studio
from tests.factories import upload
from tests.jobs.test_new_job_flow import consent, hidden

pytestmark = pytest.mark.django_db
HX = {"HX-Request": "true"}


@pytest.fixture
def face_clip(media_dir):
    return mediafactory.make_video(
        media_dir / "face.mp4", seconds=2.0, width=512, height=512, picture=mediafactory.astronaut()
    )


def check(client, **data):
    return client.post(reverse("jobs:new"), {"step": "check", **data}, headers=HX).content.decode()


def test_with_every_cloud_route_simulated_the_local_draft_is_suggested(owner_client, face_clip, voice, settings):
    settings.RUNCOMFY_API_KEY = ""
    html = check(owner_client, shape="video_audio", source_video=upload(face_clip), voice_audio=upload(voice))
    suggested = re.search(r'id="suggested-route">Suggested: <strong>([^<]+)</strong>', html).group(1)
    assert suggested == "Local draft"
    assert "placeholder" in html
    assert re.search(r'value="local-draft" checked', html)


def test_with_a_key_the_premium_route_is_suggested(owner_client, face_clip, voice, settings):
    settings.RUNCOMFY_API_KEY = "rc-test-key"
    html = check(owner_client, shape="video_audio", source_video=upload(face_clip), voice_audio=upload(voice))
    assert re.search(r"Suggested: <strong>Sync Labs sync v2 Pro</strong>", html)


def test_a_job_started_on_a_simulated_route_is_marked_simulated(owner_client, owner, face_clip, voice, settings):
    settings.RUNCOMFY_API_KEY = ""
    html = check(owner_client, shape="video_audio", source_video=upload(face_clip), voice_audio=upload(voice))
    data = {
        "shape": "video_audio",
        "step": "start",
        "route": "sync-v2",
        "video_asset": hidden(html, "video_asset"),
        "voice_assets": hidden(html, "voice_assets"),
        **consent(),
    }
    owner_client.post(reverse("jobs:new"), data)
    job = Job.objects.get(owner=owner)
    assert job.simulated and job.route_id == "sync-v2"
    assert "face.mp4" in job.search_text and "ada example" in job.search_text


def test_upload_stores_one_slot_and_answers_with_the_asset(owner_client, owner, face_clip):
    response = owner_client.post(reverse("jobs:upload"), {"slot": "video", "file": upload(face_clip)})
    assert response.status_code == 200
    answer = response.json()
    video = Asset.objects.get(owner=owner, kind="video", origin="upload")
    assert answer == {"slot": "video", "field": "video_asset", "assets": [{"id": str(video.pk), "name": "face.mp4"}]}


def test_upload_refuses_what_is_not_media_with_a_reason(owner_client, media_dir):
    bad = media_dir / "notes.mp4"
    bad.write_text("just some text")
    response = owner_client.post(reverse("jobs:upload"), {"slot": "video", "file": upload(bad)})
    assert response.status_code == 400 and "text file" in response.json()["error"]
    assert not Asset.objects.exists()


def test_upload_needs_a_signed_in_user(client, face_clip):
    response = client.post(reverse("jobs:upload"), {"slot": "video", "file": upload(face_clip)})
    assert response.status_code == 302 and not Asset.objects.exists()


def test_checked_media_get_previews_and_lengths_side_by_side(owner_client, face_clip, media_dir):
    long_voice = mediafactory.make_audio(media_dir / "long.wav", seconds=20.0)
    html = check(owner_client, shape="video_audio", source_video=upload(face_clip), voice_audio=upload(long_voice))
    assert re.search(r'<img class="preview" src="/media/files/view/', html)
    assert '<svg class="waveform"' in html
    assert 'data-length="video"' in html and 'data-length="voice"' in html
    assert "ten times as long as the video" in html
    assert "90% longer" not in html


def test_script_limit_is_shown_before_any_check(owner_client):
    html = owner_client.get(reverse("jobs:new"), {"shape": "video_script"}).content.decode()
    assert "Kling lip-sync (script) takes up to 120 characters" in html
    assert 'id="script-count" data-limit="120"' in html


def test_start_says_what_is_missing(owner_client):
    html = owner_client.get(reverse("jobs:new")).content.decode()
    assert re.search(r'id="start-job" disabled', html)
    assert "Add a video and a voice recording" in html


@pytest.mark.parametrize(
    ("shape", "said", "unsaid"),
    [
        ("video_audio", "lips re-synced to this voice", "generated voice"),
        ("portrait_audio", "person in the portrait agreed", "person shown in the video"),
        ("video_script", "saying this script in a generated voice", "Whose voice is in the recording"),
        ("portrait_script", "animated to say this script", "Whose voice is in the recording"),
        ("script", "will not depict a real, identifiable person", "person shown in the video"),
    ],
)
def test_consent_is_worded_for_what_the_job_involves(owner_client, shape, said, unsaid):
    html = owner_client.get(reverse("jobs:new"), {"shape": shape}).content.decode()
    assert said in html and unsaid not in html


def test_a_generated_voice_job_records_its_own_wording_and_a_synthetic_voice(owner, portrait):
    from lipsync_site.jobs.forms import NewJobForm

    form = NewJobForm({"shape": "portrait_script", "script": 'says clearly: "Hi"', **consent(voice_provenance=None)})
    assert form.is_valid(), form.errors
    [answer] = form.consents(1, evidence=None, ip_address="127.0.0.1", user_agent="tests")
    assert answer.voice_provenance == "synthetic" and (answer.picture, answer.voice) == ("portrait", "generated")
    assert texts.wording("portrait", "generated").likeness in texts.shown_text(picture="portrait", voice="generated")


def test_run_again_fills_the_form_with_the_same_media_and_answers(owner_client, owner, make_job, inputs):
    job = studio.titled(make_job(route_id="sync-v2"), "French dub")
    html = owner_client.get(reverse("jobs:new"), {"rerun": job.id}).content.decode()
    assert hidden(html, "video_asset") == [str(inputs["video"].pk)]
    assert hidden(html, "voice_assets") == [str(inputs["voice"].pk)]
    assert 'id="rerun-note"' in html and "Consent is recorded again" in html
    assert 'value="Ada Example"' in html
    assert not re.search(r'name="likeness_consent"[^>]*checked', html)
    assert re.search(r'value="sync-v2" checked', html)


def test_run_again_on_another_route_makes_a_new_job_with_a_new_attestation(owner_client, owner, make_job, inputs):
    job = make_job(route_id="sync-v2")
    html = owner_client.get(reverse("jobs:new"), {"rerun": job.id}).content.decode()
    data = {
        "shape": "video_audio",
        "step": "start",
        "route": "local-draft",
        "rerun": str(job.id),
        "video_asset": hidden(html, "video_asset"),
        "voice_assets": hidden(html, "voice_assets"),
        **consent(),
    }
    owner_client.post(reverse("jobs:new"), data)
    again = Job.objects.exclude(pk=job.pk).get(owner=owner)
    assert again.route_id == "local-draft" and again.voice_id == job.voice_id
    assert again.attestation_id != job.attestation_id


def test_outsider_cannot_run_someone_elses_job_again(client, outsider, make_job):
    job = make_job()
    client.force_login(outsider)
    html = client.get(reverse("jobs:new"), {"rerun": job.id}).content.decode()
    assert 'id="rerun-note"' not in html and str(job.source_video_id) not in html
