"""Public catalog responses: cached in Redis, sent with an ETag and Cache-Control, 304 when
the client already has them.

Every cache key carries the catalog version, a Redis counter that any staff change bumps
(after commit), so one INCR retires every cached catalog response at once: no stale song
after an admin edit, and no need to know which lists an edit touched.
"""

import hashlib

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.http import HttpResponse
from django.utils.cache import parse_etags
from rest_framework.renderers import JSONRenderer

VERSION_KEY = "catalog:version"
PUBLIC_MAX_AGE = 60


def catalog_version() -> int:
    version = cache.get(VERSION_KEY)
    if version is None:
        cache.add(VERSION_KEY, 1, timeout=None)
        version = cache.get(VERSION_KEY, 1)
    return version


def catalog_changed() -> None:
    """Retire every cached catalog response once the current transaction commits."""

    def bump():
        try:
            cache.incr(VERSION_KEY)
        except ValueError:  # no counter yet: nothing was cached under a version
            cache.add(VERSION_KEY, 2, timeout=None)

    transaction.on_commit(bump)


def _etag(body: bytes) -> str:
    return f'"{hashlib.blake2b(body, digest_size=16).hexdigest()}"'


def _matches(request, etag: str) -> bool:
    # GZipMiddleware weakens our ETag to W/"..." on compressed responses; compare weakly.
    tags = [tag.removeprefix("W/") for tag in parse_etags(request.headers.get("If-None-Match", ""))]
    return etag in tags or "*" in tags


def cached_catalog_response(request, build_payload, renderer: JSONRenderer) -> HttpResponse:
    """The response for this URL from Redis, or build_payload() rendered and stored."""
    key = f"catalog:{catalog_version()}:{request.get_full_path()}"
    hit = cache.get(key)
    if hit is None:
        body = renderer.render({"success": True, **build_payload()})
        hit = (body, _etag(body))
        cache.set(key, hit, settings.CATALOG_CACHE_SECONDS)
    body, etag = hit
    response = (
        HttpResponse(status=304) if _matches(request, etag) else HttpResponse(body, content_type="application/json")
    )
    response["ETag"] = etag
    response["Cache-Control"] = f"public, max-age={PUBLIC_MAX_AGE}"
    return response
