"""Public catalog responses: cached in Redis, sent with an ETag and Cache-Control, 304 when
the client already has them.

Every cache key carries the version of its scope, a Redis counter bumped after commit: any
staff change bumps "catalog", so one INCR retires every cached catalog response at once (no
stale song after an admin edit, and no need to know which lists an edit touched); a refresh
of the popular songs bumps "popular".
"""

import hashlib

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.http import HttpResponse
from django.utils.cache import parse_etags
from rest_framework.renderers import JSONRenderer

PUBLIC_MAX_AGE = 60


def _version_key(scope: str) -> str:
    return f"{scope}:version"


def scope_version(scope: str) -> int:
    return cache.get_or_set(_version_key(scope), 1, timeout=None)


def scope_changed(scope: str) -> None:
    """Retire every cached response of the scope once the current transaction commits."""

    def bump():
        try:
            cache.incr(_version_key(scope))
        except ValueError:  # no counter yet: nothing was cached under a version
            cache.add(_version_key(scope), 2, timeout=None)

    transaction.on_commit(bump)


def catalog_changed() -> None:
    scope_changed("catalog")


def _etag(body: bytes) -> str:
    return f'"{hashlib.blake2b(body, digest_size=16).hexdigest()}"'


def _matches(request, etag: str) -> bool:
    # GZipMiddleware weakens our ETag to W/"..." on compressed responses; compare weakly.
    tags = [tag.removeprefix("W/") for tag in parse_etags(request.headers.get("If-None-Match", ""))]
    return etag in tags or "*" in tags


def cached_catalog_response(request, build_payload, renderer: JSONRenderer, scope: str = "catalog") -> HttpResponse:
    """The response for this URL from Redis, or build_payload() rendered and stored."""
    key = f"{scope}:{scope_version(scope)}:{request.get_full_path()}"
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
