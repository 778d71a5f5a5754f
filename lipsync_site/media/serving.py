"""Handing out a stored file once its signed link has been checked.

Three ways, one per deployment, none of which reads the file whole into memory:

- S3 storage: a redirect to a presigned URL of the object, valid ``S3_PRESIGNED_SECONDS``,
  which carries its own ``Content-Disposition`` and ``Content-Type``; the bucket serves
  the bytes and the ranges.
- Filesystem storage behind nginx (``MEDIA_SERVED_BY_PROXY``): an empty answer whose
  ``X-Accel-Redirect`` names the file under nginx's internal media location
  (``deploy/nginx.conf``); nginx serves the bytes and the ranges.
- Otherwise (development): streamed from Python with single byte ranges (206) and
  unsatisfiable ones refused (416), since Django's FileResponse has no Range support and
  a <video> element could not seek.
"""

from __future__ import annotations

import re
from urllib.parse import quote

from django.conf import settings
from django.http import HttpResponse, HttpResponseRedirect, StreamingHttpResponse
from django.utils.http import content_disposition_header

from lipsync_site.media.models import Asset

CHUNK = 256 * 1024
RANGE_PATTERN = re.compile(r"^bytes=(\d*)-(\d*)$")
# What we hand to browsers for each stored kind: never a type a browser would execute.
SAFE_TYPES = {
    "video/mp4",
    "video/quicktime",
    "video/webm",
    "video/x-matroska",
    "video/x-msvideo",
    "audio/mpeg",
    "audio/wav",
    "audio/mp4",
    "audio/aac",
    "image/jpeg",
    "image/png",
    "image/gif",
    "image/webp",
    "application/pdf",
}


def parse_range(header: str, size: int) -> tuple[int, int] | str | None:
    """(start, end) inclusive for a satisfiable single range, None for no/ignored range,
    "unsatisfiable" for a range outside the file."""
    match = RANGE_PATTERN.match(header.strip())
    if not match:
        return None  # multi-range or malformed: RFC 9110 lets us ignore it and send 200
    first, last = match.groups()
    if first == "" and last == "":
        return None
    if first == "":
        length = int(last)
        if length == 0:
            return "unsatisfiable"
        return max(0, size - length), size - 1
    start = int(first)
    end = int(last) if last else size - 1
    if start >= size or end < start:
        return "unsatisfiable"
    return start, min(end, size - 1)


def _iter_file(fh, start: int, length: int):
    try:
        fh.seek(start)
        remaining = length
        while remaining > 0:
            chunk = fh.read(min(CHUNK, remaining))
            if not chunk:
                break
            remaining -= len(chunk)
            yield chunk
    finally:
        fh.close()


def in_bucket(asset: Asset) -> bool:
    """Whether the asset's storage is an object store that can presign URLs."""
    from storages.backends.s3 import S3Storage

    return isinstance(asset.file.storage, S3Storage)


def serve_asset(request, asset: Asset, *, as_attachment: bool) -> HttpResponse:
    content_type = asset.content_type if asset.content_type in SAFE_TYPES else "application/octet-stream"
    filename = f"lipsync-{asset.id.hex[:8]}{asset.extension}"
    disposition = content_disposition_header(as_attachment, filename)
    if in_bucket(asset):
        response = _presigned_redirect(asset, content_type=content_type, disposition=disposition)
    elif settings.MEDIA_SERVED_BY_PROXY:
        response = _accel_redirect(asset, content_type=content_type)
    else:
        response = _stream(request, asset, content_type=content_type)
    response["Content-Disposition"] = disposition
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


def _presigned_redirect(asset: Asset, *, content_type: str, disposition: str) -> HttpResponse:
    url = asset.file.storage.url(
        asset.file.name,
        parameters={"ResponseContentDisposition": disposition, "ResponseContentType": content_type},
        expire=settings.S3_PRESIGNED_SECONDS,
    )
    response = HttpResponseRedirect(url)
    # The URL is a short-lived credential: no cache may keep it past the checks.
    response["Cache-Control"] = "private, no-store"
    return response


def _accel_redirect(asset: Asset, *, content_type: str) -> HttpResponse:
    # nginx keeps Content-Type, Content-Disposition and Cache-Control of this answer and
    # serves the file (ranges included) from its internal location.
    response = HttpResponse(content_type=content_type)
    response["X-Accel-Redirect"] = settings.MEDIA_PROXY_LOCATION + quote(asset.file.name)
    response["Cache-Control"] = "private, max-age=300"
    return response


def _stream(request, asset: Asset, *, content_type: str) -> HttpResponse:
    size = asset.file.size
    header = request.headers.get("Range", "")
    byte_range = parse_range(header, size) if header else None
    if byte_range == "unsatisfiable":
        response = HttpResponse(status=416)
        response["Content-Range"] = f"bytes */{size}"
    else:
        start, end = byte_range if byte_range else (0, size - 1)
        length = end - start + 1 if size else 0
        response = StreamingHttpResponse(
            _iter_file(asset.file.open("rb"), start, length),
            status=206 if byte_range else 200,
            content_type=content_type,
        )
        response["Content-Length"] = str(length)
        if byte_range:
            response["Content-Range"] = f"bytes {start}-{end}/{size}"
    response["Accept-Ranges"] = "bytes"
    response["Cache-Control"] = "private, max-age=300"
    return response
