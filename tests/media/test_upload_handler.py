"""The upload handler: a cap enforced while streaming, and a body that ends early is an
interrupted upload, never a shorter file."""

import io

import pytest
from django.core.handlers.wsgi import WSGIRequest
from django.urls import reverse

from lipsync_site.jobs.views import job_new
from lipsync_site.media.models import Asset

pytestmark = pytest.mark.django_db

BOUNDARY = "----testboundary"


def multipart(name: str, filename: str, data: bytes) -> bytes:
    return (
        (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="shape"\r\n\r\nvideo_audio\r\n'
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="step"\r\n\r\ncheck\r\n'
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        + data
        + f"\r\n--{BOUNDARY}--\r\n".encode()
    )


def request_with_body(body: bytes, declared: int, user) -> WSGIRequest:
    request = WSGIRequest(
        {
            "REQUEST_METHOD": "POST",
            "PATH_INFO": reverse("jobs:new"),
            "SERVER_NAME": "testserver",
            "SERVER_PORT": "80",
            "wsgi.url_scheme": "http",
            "CONTENT_TYPE": f"multipart/form-data; boundary={BOUNDARY}",
            "CONTENT_LENGTH": str(declared),
            "wsgi.input": io.BytesIO(body),
        }
    )
    request.user = user
    request.htmx = False
    request._dont_enforce_csrf_checks = True
    from django.contrib.messages.storage.fallback import FallbackStorage

    request.session = {}
    request._messages = FallbackStorage(request)
    return request


def test_a_body_that_ends_early_is_an_interrupted_upload(owner, clip, settings):
    body = multipart("source_video", "clip.mp4", clip.read_bytes())
    cut = body[: len(body) // 2]
    request = request_with_body(cut, len(body), owner)
    assert request.FILES.get("source_video") is None or request.upload_interrupted  # never taken as whole
    assert request.upload_interrupted
    response = job_new(request)
    assert response.status_code == 400
    assert "interrupted" in response.content.decode()
    assert not Asset.objects.exists()
    assert not [p for p in settings.MEDIA_ROOT.rglob("*") if p.is_file()]


def test_a_whole_body_is_not_interrupted(owner, clip):
    body = multipart("source_video", "clip.mp4", clip.read_bytes())
    request = request_with_body(body, len(body), owner)
    assert request.FILES["source_video"].size == clip.stat().st_size
    assert not getattr(request, "upload_interrupted", False)


def test_the_cap_stops_the_upload_while_streaming(owner, clip, settings, tmp_path):
    settings.MEDIA_UPLOAD_MAX_BYTES = 4096
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path)
    body = multipart("source_video", "clip.mp4", clip.read_bytes())
    request = request_with_body(body, len(body), owner)
    assert "source_video" not in request.FILES
    assert request.upload_too_large
    assert not list(tmp_path.glob("*.upload*"))  # the partial temporary file is gone
