"""Streaming stored files with HTTP Range support.

Django's FileResponse answers every request with the whole file, so a <video> element
cannot seek. This serves single byte ranges (206), refuses unsatisfiable ones (416), and
never reads the file whole into memory.
"""

from __future__ import annotations

import re

from django.http import HttpResponse, StreamingHttpResponse
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


def serve_asset(request, asset: Asset, *, as_attachment: bool) -> HttpResponse:
    size = asset.file.size
    content_type = asset.content_type if asset.content_type in SAFE_TYPES else "application/octet-stream"
    filename = f"lipsync-{asset.id.hex[:8]}{asset.extension}"
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
    response["Content-Disposition"] = content_disposition_header(as_attachment, filename)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, max-age=300"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
