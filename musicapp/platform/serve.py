"""Serving the local media store (Cloudinary serves its own files when configured).

Audio must be seekable, so single byte ranges are honoured (RFC 9110): 206 with
Content-Range, 416 for a range that is malformed or past the end, If-Range against the
ETag. Stored names are content digests, so every file is cached for a year.
"""

import mimetypes
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import TypeVar

from django.conf import settings
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseBase, StreamingHttpResponse
from django.utils._os import safe_join
from django.utils.http import http_date, parse_etags
from django.views.decorators.http import require_safe

IMMUTABLE = "public, max-age=31536000, immutable"
CHUNK = 64 * 1024
RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
R = TypeVar("R", bound=HttpResponseBase)


def _file(path: str) -> Path:
    try:
        full = Path(safe_join(settings.MEDIA_ROOT, path))
    except Exception as exc:  # SuspiciousFileOperation: a path that climbs out of MEDIA_ROOT
        raise Http404 from exc
    if not full.is_file():
        raise Http404
    return full


def parse_range(header: str, size: int) -> tuple[int, int] | None:
    """(first, last) byte of a single range, or None if unsatisfiable or malformed."""
    match = RANGE.match(header.replace(" ", ""))
    if not match or match.groups() == ("", ""):
        return None
    first, last = match.groups()
    if first == "":  # suffix: the last N bytes
        length = int(last)
        return (max(0, size - length), size - 1) if length > 0 and size > 0 else None
    first = int(first)
    last = min(int(last), size - 1) if last else size - 1
    return (first, last) if first <= last and first < size else None


def _read(path: Path, first: int, length: int) -> Iterator[bytes]:
    with path.open("rb") as handle:
        handle.seek(first)
        while length > 0:
            chunk = handle.read(min(CHUNK, length))
            if not chunk:
                return
            length -= len(chunk)
            yield chunk


def _headers(response: R, etag: str, stat: os.stat_result) -> R:
    response["ETag"] = etag
    response["Last-Modified"] = http_date(stat.st_mtime)
    response["Cache-Control"] = IMMUTABLE
    response["Accept-Ranges"] = "bytes"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@require_safe
def media_file(request: HttpRequest, path: str) -> HttpResponseBase:
    full = _file(path)
    stat = full.stat()
    size = stat.st_size
    etag = f'"{stat.st_mtime_ns:x}-{size:x}"'
    content_type = mimetypes.guess_type(full.name)[0] or "application/octet-stream"

    if etag in parse_etags(request.headers.get("If-None-Match", "")):
        return _headers(HttpResponse(status=304), etag, stat)

    range_header = request.headers.get("Range")
    if_range = request.headers.get("If-Range")
    if range_header and (if_range is None or if_range == etag):
        byte_range = parse_range(range_header, size)
        if byte_range is None:
            unsatisfiable = HttpResponse(status=416)
            unsatisfiable["Content-Range"] = f"bytes */{size}"
            return _headers(unsatisfiable, etag, stat)
        first, last = byte_range
        length = last - first + 1
        partial = StreamingHttpResponse(_read(full, first, length), status=206, content_type=content_type)
        partial["Content-Range"] = f"bytes {first}-{last}/{size}"
        partial["Content-Length"] = str(length)
        return _headers(partial, etag, stat)

    return _headers(FileResponse(full.open("rb"), content_type=content_type), etag, stat)
