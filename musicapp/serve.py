"""Serving the local media store (used when Cloudinary is not configured)."""

import mimetypes
from pathlib import Path

from django.conf import settings
from django.http import FileResponse, Http404, HttpRequest
from django.utils._os import safe_join
from django.utils.http import http_date
from django.views.decorators.http import require_safe

# Stored names carry a digest of the content, so a URL never changes meaning: cache for a year.
IMMUTABLE = "public, max-age=31536000, immutable"


@require_safe
def media_file(request: HttpRequest, path: str) -> FileResponse:
    try:
        full = Path(safe_join(settings.MEDIA_ROOT, path))
    except Exception as exc:  # SuspiciousFileOperation: a path that climbs out of MEDIA_ROOT
        raise Http404 from exc
    if not full.is_file():
        raise Http404
    stat = full.stat()
    content_type = mimetypes.guess_type(full.name)[0] or "application/octet-stream"
    response = FileResponse(full.open("rb"), content_type=content_type)
    response["Cache-Control"] = IMMUTABLE
    response["Last-Modified"] = http_date(stat.st_mtime)
    response["ETag"] = f'"{stat.st_mtime_ns:x}-{stat.st_size:x}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response
