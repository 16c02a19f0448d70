"""Cached responses that a write retires all at once, in two levels.

Each scope ("catalog", "popular", "playlist:<id>", "user:<id>:library", ...) has a version,
a Redis counter; cache keys carry it, and a write bumps it after commit. One INCR retires
every cached page of the scope, with no need to know which pages a write touched, and no
reader is served something that a rolled-back write never changed.

In front of Redis, each process keeps the hottest values (pickled, in an LRU), and a copy of
every version it read, kept current by the bumps' notices (musicapp.platform.mirror): a hot
read costs no round trip at all, and a write in any process is seen by the next read in every
other. A value under a versioned key never changes, so a current version is all a copy needs.
Versions start from the clock, so a Redis that lost its data never hands out a version
number a process has kept values under. A miss is built once: threads of a process wait for
the one building it, processes for the one holding a short Redis lock.
"""

from __future__ import annotations

import pickle
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

from musicapp.platform.metrics import cache_lookups
from musicapp.platform.mirror import mirror

DEFAULT_TIMEOUT = 600
BUILD_LOCK_SECONDS = 10  # a build that takes longer lets the others build too
BUILD_WAIT_SECONDS = 2.0
T = TypeVar("T")
# Bound once: a hit costs one increment, no label lookup (/metrics: hit rate = 1 - built / all).
_FROM_PROCESS, _FROM_REDIS, _BUILT = (cache_lookups.labels(level) for level in ("process", "redis", "built"))


class _Local:
    """This process's copies of values (the versions are the mirror's)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.values: OrderedDict[str, bytes] = OrderedDict()
        self.building: dict[str, threading.Lock] = {}

    def get(self, key: str) -> bytes | None:
        with self.lock:
            data = self.values.get(key)
            if data is not None:
                self.values.move_to_end(key)
            return data

    def put(self, key: str, data: bytes) -> None:
        if len(data) > settings.CACHE_LOCAL_MAX_BYTES:
            return
        with self.lock:
            self.values[key] = data
            self.values.move_to_end(key)
            while len(self.values) > settings.CACHE_LOCAL_MAX_ENTRIES:
                self.values.popitem(last=False)

    def building_lock(self, key: str) -> threading.Lock:
        with self.lock:
            return self.building.setdefault(key, threading.Lock())

    def built(self, key: str) -> None:
        with self.lock:
            self.building.pop(key, None)


_local = _Local()


def clear_local() -> None:
    """Forget this process's copies (tests do, when they empty Redis)."""
    global _local
    _local = _Local()
    mirror.drop()


def _version_key(scope: str) -> str:
    return f"{scope}:version"


def _first_version() -> int:
    # Microseconds: a version made again after Redis lost its data is made at least a round trip
    # later than any before it, never within the same tick (milliseconds were not enough).
    return time.time_ns() // 1000


def version(scope: str) -> int:
    """The scope's version: this process's copy while it is current (musicapp.platform.mirror),
    else Redis's."""
    return version_with(scope, ())[0]


def version_with(scope: str, keys: Sequence[str]) -> tuple[int, dict[str, int | None]]:
    """The scope's version and other mirrored keys' values (accounts.revocation's), from this
    process's current copies or else in one round trip: what a token check needs on every
    request, and must see changed at once."""
    version_key = _version_key(scope)
    found = mirror.get_many([version_key, *keys])
    value = found.pop(version_key)
    if value is None:  # a scope no one has read or changed yet (or Redis lost it)
        value = mirror.start(version_key, _first_version)
    return value, found


def forget_all_versions() -> None:
    """Retire every cached value of every scope at once (after a database restore): versions
    start again from the clock, above any this or another process holds values under."""
    cache.delete_pattern(_version_key("*"))  # type: ignore[attr-defined]  # django-redis
    mirror.drop_everywhere()
    clear_local()


def changed_on_commit(*scopes: str) -> None:
    def bump() -> None:
        for scope in scopes:
            mirror.bump(_version_key(scope), _first_version())  # announced: every process, at once

    transaction.on_commit(bump)


def cached(
    scope: str,
    variant: str,
    build: Callable[[], T],
    timeout: int = DEFAULT_TIMEOUT,
    *,
    at_version: int | None = None,
) -> T:
    """build() for this variant of the scope, from this process or Redis while the scope has
    not changed (`at_version`: a version just read, e.g. by version_with). Each caller gets
    its own copy."""
    scope_version = at_version if at_version is not None else version(scope)
    key = f"{scope}:{scope_version}:{variant}"
    data = _local.get(key)
    if data is None:
        data = _from_redis(key)
        if data is None:
            data = _build_once(key, build, timeout)  # counts itself
        else:
            _FROM_REDIS.inc()
        _local.put(key, data)
    else:
        _FROM_PROCESS.inc()
    return pickle.loads(data)  # noqa: S301 (our own bytes, from our own cache)


def _build_once(key: str, build: Callable[[], Any], timeout: int) -> bytes:
    """Build a missing value once: other threads of this process wait on a lock; other
    processes wait (up to BUILD_WAIT_SECONDS) for the one that took the Redis lock."""
    lock_key = f"{key}:building"
    with _local.building_lock(key):
        data = _local.get(key) or _from_redis(key)
        if data is not None:  # built meanwhile by another thread or process
            _FROM_REDIS.inc()
            return data
        owner = False
        try:
            owner = bool(cache.add(lock_key, 1, timeout=BUILD_LOCK_SECONDS))
            if not owner:
                deadline = time.monotonic() + BUILD_WAIT_SECONDS
                while time.monotonic() < deadline:
                    time.sleep(0.02)
                    if (data := _from_redis(key)) is not None:
                        _FROM_REDIS.inc()
                        return data
            data = pickle.dumps(build(), protocol=pickle.HIGHEST_PROTOCOL)
            _BUILT.inc()
            cache.set(key, data, timeout)
            return data
        finally:
            if owner:
                cache.delete(lock_key)
            _local.built(key)


def _from_redis(key: str) -> bytes | None:
    data = cache.get(key)
    return data if isinstance(data, bytes) else None  # anything else was written by an older release


# Per-user scopes (a user's library, history, recommendations, playlists).


def user_scope(user_id: str, scope: str) -> str:
    return f"user:{user_id}:{scope}"


def user_changed_on_commit(user_id: str, *scopes: str) -> None:
    changed_on_commit(*(user_scope(user_id, scope) for scope in scopes))


def cached_for_user(
    user_id: str,
    scope: str,
    variant: str,
    build: Callable[[], T],
    timeout: int = DEFAULT_TIMEOUT,
    *,
    at_version: int | None = None,
) -> T:
    return cached(user_scope(user_id, scope), variant, build, timeout, at_version=at_version)
