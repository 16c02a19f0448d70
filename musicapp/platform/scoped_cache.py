"""Cached responses that a write retires all at once, in two levels.

Each scope ("catalog", "popular", "playlist:<id>", "user:<id>:library", ...) has a version,
a Redis counter; cache keys carry it, and a write bumps it after commit. One INCR retires
every cached page of the scope, with no need to know which pages a write touched, and no
reader is served something that a rolled-back write never changed.

In front of Redis, each process keeps the hottest values (pickled, in an LRU) and the versions
it read in the last LOCAL_VERSION_SECONDS: a hot read costs no round trip at all. A value
under a versioned key never changes, so the only staleness is the version's: a write in
another process is seen here within LOCAL_VERSION_SECONDS (under 1 s), a write in this process
at once. Versions start from the clock, so a Redis that lost its data never hands out a
version number a process has kept values under. A miss is built once: threads of a process
wait for the one building it, processes for the one holding a short Redis lock.
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

DEFAULT_TIMEOUT = 600
BUILD_LOCK_SECONDS = 10  # a build that takes longer lets the others build too
BUILD_WAIT_SECONDS = 2.0
T = TypeVar("T")
# Bound once: a hit costs one increment, no label lookup (/metrics: hit rate = 1 - built / all).
_FROM_PROCESS, _FROM_REDIS, _BUILT = (cache_lookups.labels(level) for level in ("process", "redis", "built"))


class _Local:
    """This process's copies: versions read less than LOCAL_VERSION_SECONDS ago, and values."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.versions: dict[str, tuple[int, float]] = {}
        self.values: OrderedDict[str, bytes] = OrderedDict()
        self.building: dict[str, threading.Lock] = {}

    def version(self, scope: str) -> int | None:
        found = self.versions.get(scope)
        if found is not None and time.monotonic() - found[1] < settings.CACHE_LOCAL_VERSION_SECONDS:
            return found[0]
        return None

    def set_version(self, scope: str, value: int) -> None:
        with self.lock:
            if len(self.versions) >= settings.CACHE_LOCAL_MAX_ENTRIES:
                self.versions.clear()
            self.versions[scope] = (value, time.monotonic())

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


def _version_key(scope: str) -> str:
    return f"{scope}:version"


def _first_version() -> int:
    return int(time.time() * 1000)


def version(scope: str, *, fresh: bool = False) -> int:
    """The scope's version: this process's copy if read in the last LOCAL_VERSION_SECONDS,
    unless `fresh` (a change made anywhere must count at once: a deactivated user)."""
    found = None if fresh else _local.version(scope)
    if found is None:
        found = int(cache.get_or_set(_version_key(scope), _first_version, timeout=None) or _first_version())
        _local.set_version(scope, found)
    return found


def forget_all_versions() -> None:
    """Retire every cached value of every scope at once (after a database restore): versions
    start again from the clock, above any this or another process holds values under."""
    cache.delete_pattern(_version_key("*"))  # type: ignore[attr-defined]  # django-redis
    clear_local()


def changed_on_commit(*scopes: str) -> None:
    def bump() -> None:
        for scope in scopes:
            try:
                new = int(cache.incr(_version_key(scope)))
            except ValueError:  # no counter (never read, or evicted): start again from the clock
                new = _first_version()
                cache.set(_version_key(scope), new, timeout=None)
            _local.set_version(scope, new)  # this process reads its own writes at once

    transaction.on_commit(bump)


def fresh_version_with(scope: str, keys: Sequence[str]) -> tuple[int, dict[str, Any]]:
    """The scope's version read from Redis (as version(fresh=True)) and other cache keys'
    values, in one round trip: what a hot path that must see changes at once needs."""
    version_key = _version_key(scope)
    found = cache.get_many([version_key, *keys])
    value = found.pop(version_key, None)
    if value is None:
        value = cache.get_or_set(version_key, _first_version, timeout=None) or _first_version()
    _local.set_version(scope, int(value))
    return int(value), found


def cached(
    scope: str,
    variant: str,
    build: Callable[[], T],
    timeout: int = DEFAULT_TIMEOUT,
    *,
    fresh_version: bool = False,
    at_version: int | None = None,
) -> T:
    """build() for this variant of the scope, from this process or Redis while the scope has
    not changed (`at_version`: a version just read, e.g. by fresh_version_with). Each caller
    gets its own copy."""
    scope_version = at_version if at_version is not None else version(scope, fresh=fresh_version)
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
    fresh_version: bool = False,
    at_version: int | None = None,
) -> T:
    return cached(
        user_scope(user_id, scope), variant, build, timeout, fresh_version=fresh_version, at_version=at_version
    )
