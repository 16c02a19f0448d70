"""Public catalog responses: cached in Redis (musicapp.platform.scoped_cache), sent with an ETag and
Cache-Control, 304 when the client already has them. Any staff change retires the "catalog"
scope (no stale song after an admin edit); a refresh of the popular songs retires "popular".
"""

import hashlib

from django.conf import settings
from django.http import HttpResponse
from django.utils.http import parse_etags
from rest_framework.renderers import BaseRenderer

from musicapp.platform.scoped_cache import cached, changed_on_commit

PUBLIC_MAX_AGE = 60


def catalog_changed() -> None:
    changed_on_commit("catalog")


def _etag(body: bytes) -> str:
    return f'"{hashlib.blake2b(body, digest_size=16).hexdigest()}"'


def _matches(request, etag: str) -> bool:
    # GZipMiddleware weakens our ETag to W/"..." on compressed responses; compare weakly.
    tags = [tag.removeprefix("W/") for tag in parse_etags(request.headers.get("If-None-Match", ""))]
    return etag in tags or "*" in tags


def cached_catalog_response(request, build_payload, renderer: BaseRenderer, scope: str = "catalog") -> HttpResponse:
    """The response for this URL from Redis, or build_payload() rendered and stored."""

    def render() -> tuple[bytes, str]:
        body = renderer.render({"success": True, **build_payload()})
        return body, _etag(body)

    body, etag = cached(scope, request.get_full_path(), render, timeout=settings.CATALOG_CACHE_SECONDS)
    response = (
        HttpResponse(status=304) if _matches(request, etag) else HttpResponse(body, content_type="application/json")
    )
    response["ETag"] = etag
    response["Cache-Control"] = f"public, max-age={PUBLIC_MAX_AGE}"
    return response
