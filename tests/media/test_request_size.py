"""One request's uploads are capped as a whole (MEDIA_REQUEST_MAX_BYTES), before any byte
of the body is read: a form with many voices cannot spool gigabytes before the ten-voice
check refuses it. The answer says so clearly, and nothing is left behind."""

import socket

import pytest
from django.urls import reverse

from lipsync_site.jobs.models import Job
from lipsync_site.media.models import Asset
from tests import mediafactory
from tests.factories import upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def caps(settings):
    settings.MEDIA_UPLOAD_MAX_BYTES = 4 * 1024 * 1024  # each file
    settings.MEDIA_REQUEST_MAX_BYTES = 3 * 1024 * 1024  # the whole request
    return settings


@pytest.fixture
def voices(media_dir):
    # Three voices of about 1.4 MB each: every one under the file cap, together over the request cap.
    return [mediafactory.make_audio(media_dir / f"voice{i}.wav", seconds=16.0, freq=200 + 40 * i) for i in range(3)]


def stored_files(settings):
    return [path for path in settings.MEDIA_ROOT.rglob("*") if path.is_file()]


def test_a_form_whose_files_together_pass_the_cap_is_refused_with_a_clear_message(
    owner_client, clip, voices, caps, settings
):
    assert all(path.stat().st_size < caps.MEDIA_UPLOAD_MAX_BYTES for path in voices)
    response = owner_client.post(
        reverse("jobs:new"),
        {"shape": "video_audio", "source_video": upload(clip), "voice_audio": [upload(path) for path in voices]},
    )
    assert response.status_code == 413
    assert "may total at most 3 MB; nothing was stored" in response.content.decode()
    assert not Job.objects.exists() and not Asset.objects.exists()
    assert not stored_files(settings)


def test_the_upload_endpoint_answers_its_script_in_json(owner_client, voices, caps, settings):
    response = owner_client.post(
        reverse("jobs:upload"),
        {"slot": "voices", "file": [upload(path) for path in voices]},
        headers={"Accept": "application/json"},
    )
    assert response.status_code == 413
    assert "may total at most 3 MB" in response.json()["error"]
    assert not Asset.objects.exists() and not stored_files(settings)


def test_a_request_under_the_cap_goes_through(owner_client, voices, caps):
    response = owner_client.post(
        reverse("jobs:upload"), {"slot": "voices", "file": [upload(voices[0])]}, headers={"Accept": "application/json"}
    )
    assert response.status_code == 200 and len(response.json()["assets"]) == 1


def test_the_body_is_not_read_when_the_declared_length_is_over_the_cap(live_server, caps):
    # A declared 50 GB and no body at all: answered at once, without waiting for the bytes.
    host, port = live_server.thread.host, live_server.thread.port
    with socket.create_connection((host, port), timeout=10) as sock:
        sock.sendall(
            b"POST /jobs/new/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: multipart/form-data; boundary=xyz\r\n" + f"Content-Length: {50 * 1024**3}\r\n\r\n".encode()
        )
        answer = sock.recv(65536)
    assert answer.startswith(b"HTTP/1.1 413")
