"""Per-user cached responses (library, history, recommendations...).

Like the catalog cache, each scope of each user has a version in Redis that writes bump after
commit; keys carry the version, so a bump retires every cached page of that scope at once.
"""

import contextlib
from collections.abc import Callable

from django.core.cache import cache
from django.db import transaction

DEFAULT_TIMEOUT = 600


def _version_key(user_id: str, scope: str) -> str:
    return f"user:{user_id}:{scope}:version"


def version(user_id: str, scope: str) -> int:
    return cache.get_or_set(_version_key(user_id, scope), 1, timeout=None)


def bump_on_commit(user_id: str, *scopes: str) -> None:
    def bump():
        for scope in scopes:
            with contextlib.suppress(ValueError):  # never read, so nothing cached under it
                cache.incr(_version_key(user_id, scope))

    transaction.on_commit(bump)


def cached(user_id: str, scope: str, variant: str, build: Callable[[], object], timeout: int = DEFAULT_TIMEOUT):
    key = f"user:{user_id}:{scope}:{version(user_id, scope)}:{variant}"
    value = cache.get(key)
    if value is None:
        value = build()
        cache.set(key, value, timeout)
    return value
