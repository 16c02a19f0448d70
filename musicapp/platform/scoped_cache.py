"""Cached responses that a write retires all at once.

Each scope ("catalog", "popular", "playlist:<id>", "user:<id>:library", ...) has a version,
a Redis counter; cache keys carry it, and a write bumps it after commit. One INCR retires
every cached page of the scope, with no need to know which pages a write touched, and no
reader is served something that a rolled-back write never changed.
"""

from collections.abc import Callable
from typing import Any, TypeVar

from django.core.cache import cache
from django.db import transaction

DEFAULT_TIMEOUT = 600
T = TypeVar("T")


def _version_key(scope: str) -> str:
    return f"{scope}:version"


def version(scope: str) -> int:
    return int(cache.get_or_set(_version_key(scope), 1, timeout=None) or 1)


def changed_on_commit(*scopes: str) -> None:
    def bump() -> None:
        for scope in scopes:
            try:
                cache.incr(_version_key(scope))
            except ValueError:  # no counter (never read, or evicted): start past version 1
                cache.add(_version_key(scope), 2, timeout=None)

    transaction.on_commit(bump)


def cached(scope: str, variant: str, build: Callable[[], T], timeout: int = DEFAULT_TIMEOUT) -> T:
    """build() for this variant of the scope, from Redis while the scope has not changed."""
    key = f"{scope}:{version(scope)}:{variant}"
    value: Any = cache.get(key)
    if value is None:
        value = build()
        cache.set(key, value, timeout)
    return value


# Per-user scopes (a user's library, history, recommendations, playlists).


def user_scope(user_id: str, scope: str) -> str:
    return f"user:{user_id}:{scope}"


def user_changed_on_commit(user_id: str, *scopes: str) -> None:
    changed_on_commit(*(user_scope(user_id, scope) for scope in scopes))


def cached_for_user(
    user_id: str, scope: str, variant: str, build: Callable[[], T], timeout: int = DEFAULT_TIMEOUT
) -> T:
    return cached(user_scope(user_id, scope), variant, build, timeout)
