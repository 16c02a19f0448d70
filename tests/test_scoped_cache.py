"""The two levels of musicapp.platform.scoped_cache: this process's copies in front of Redis."""

import threading
import time
from unittest import mock

import pytest
from django.core.cache import cache
from django_redis import get_redis_connection  # type: ignore[import-untyped]

from musicapp.platform import scoped_cache
from musicapp.platform.metrics import cache_lookups
from tests.support.processes import another_process

pytestmark = pytest.mark.django_db


def test_a_hot_read_is_served_by_this_process_without_a_round_trip(django_capture_on_commit_callbacks):
    builds = []
    assert scoped_cache.cached("catalog", "page", lambda: builds.append(1) or {"songs": [1, 2]}) == {"songs": [1, 2]}

    with mock.patch.object(cache, "get", side_effect=AssertionError("Redis was asked")):
        assert scoped_cache.cached("catalog", "page", lambda: builds.append(1) or {}) == {"songs": [1, 2]}
    assert builds == [1]


def test_each_reader_gets_its_own_copy():
    first = scoped_cache.cached("catalog", "page", lambda: {"songs": [1]})
    first["songs"].append("changed by a careless caller")

    assert scoped_cache.cached("catalog", "page", lambda: {}) == {"songs": [1]}


def test_a_write_in_this_process_is_read_at_once(django_capture_on_commit_callbacks):
    scoped_cache.cached("catalog", "page", lambda: "old")
    with django_capture_on_commit_callbacks(execute=True):
        scoped_cache.changed_on_commit("catalog")

    assert scoped_cache.cached("catalog", "page", lambda: "new") == "new"


def test_a_write_in_another_process_is_read_here_at_once():
    scoped_cache.cached("catalog", "page", lambda: "old")
    with another_process() as other:
        other("from musicapp.platform import scoped_cache")
        other("scoped_cache.changed_on_commit('catalog')")  # autocommit there: announced at once

        assert scoped_cache.cached("catalog", "page", lambda: "new") == "new"


def test_a_version_lost_with_redis_never_comes_back_as_an_old_number():
    scoped_cache.cached("catalog", "page", lambda: "built before Redis lost its data")
    before = scoped_cache.version("catalog")
    redis = get_redis_connection("default")
    redis.flushdb()  # a Redis restarted empty: its data gone, and its connections dropped
    redis.client_kill_filter(_type="pubsub")

    assert scoped_cache.version("catalog") > before
    assert scoped_cache.cached("catalog", "page", lambda: "built again") == "built again"


def test_a_miss_is_built_once_however_many_threads_ask_at_the_same_time():
    builds, results = [], []
    start = threading.Barrier(8)

    def build():
        builds.append(1)
        time.sleep(0.2)
        return "page"

    def read():
        start.wait()
        results.append(scoped_cache.cached("catalog", "slow", build))

    threads = [threading.Thread(target=read) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert results == ["page"] * 8 and builds == [1]


def test_another_process_building_the_same_miss_is_waited_for():
    key = f"catalog:{scoped_cache.version('catalog')}:page"
    cache.add(f"{key}:building", 1, timeout=10)  # another process took the build

    def other_process_finishes():
        time.sleep(0.2)
        cache.set(key, __import__("pickle").dumps("built over there"))

    threading.Thread(target=other_process_finishes).start()

    assert scoped_cache.cached("catalog", "page", lambda: "built here") == "built over there"


def lookups() -> dict[str, float]:
    return {level: cache_lookups.labels(level)._value.get() for level in ("process", "redis", "built")}


def test_every_read_is_counted_by_where_its_value_came_from():
    before = lookups()
    scoped_cache.cached("catalog", "counted", lambda: "page")  # a miss: built
    scoped_cache.cached("catalog", "counted", lambda: "page")  # this process's copy
    scoped_cache.clear_local()  # as another process would: only Redis has it
    scoped_cache.cached("catalog", "counted", lambda: "page")
    scoped_cache.cached("catalog", "counted", lambda: "page")

    after = lookups()
    assert {level: after[level] - before[level] for level in after} == {"process": 2, "redis": 1, "built": 1}


def test_a_value_an_older_release_left_in_redis_is_rebuilt():
    key = f"catalog:{scoped_cache.version('catalog')}:page"
    cache.set(key, {"an": "object, not bytes"})

    assert scoped_cache.cached("catalog", "page", lambda: "rebuilt") == "rebuilt"


def test_a_hot_authenticated_read_is_sent_as_cached_bytes_without_rendering_again(owner_api):
    first = owner_api.get("/api/library")

    with mock.patch("djangorestframework_camel_case.render.camelize", side_effect=AssertionError("rendered again")):
        again = owner_api.get("/api/library")

    assert again.status_code == 200 and again.content == first.content
    assert again["Content-Type"] == "application/json" and again.json()["success"] is True
