"""A cap on the size of one request's uploads, checked before any byte of it is read.

The upload handler caps each file (``MEDIA_UPLOAD_MAX_BYTES``) while it streams, but a form
with ten voices could still spool ten times that to disk before the ten-voice check refuses
it. This middleware reads the declared ``Content-Length`` of a multipart request and, past
``MEDIA_REQUEST_MAX_BYTES``, answers 413 at once: nothing is spooled, nothing is stored.
(Django reads no body at all without a Content-Length, so the declared length is the whole
of what it would read.) The proxy caps the body too (deploy/nginx.conf).
"""

from __future__ import annotations

from django.conf import settings
from django.http import JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext


def request_too_large_message() -> str:
    cap = settings.MEDIA_REQUEST_MAX_BYTES / 1024**2
    return gettext(
        "The files of one submission may total at most %(cap).0f MB; nothing was stored. Send fewer files at once."
    ) % {"cap": cap}


class RequestSizeLimitMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method == "POST" and request.content_type == "multipart/form-data":
            try:
                declared = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                declared = 0
            if declared > settings.MEDIA_REQUEST_MAX_BYTES:
                return self._refuse(request)
        return self.get_response(request)

    def _refuse(self, request):
        message = request_too_large_message()
        if request.path.startswith("/api/"):  # the token API's error format (see lipsync_site.api.errors)
            response = JsonResponse({"code": "upload_too_large", "message": message}, status=413)
        elif "application/json" in request.headers.get("Accept", ""):
            response = JsonResponse({"error": message}, status=413)
        else:
            back = request.path if url_is_local(request.path) else "/"
            response = render(request, "media/request_too_large.html", {"message": message, "back": back}, status=413)
        # The unread body leaves the connection unusable; the WSGI server closes it (a
        # hop-by-hop Connection header is the server's to set, not the application's).
        return response


def url_is_local(path: str) -> bool:
    return path.startswith("/") and not path.startswith("//")
