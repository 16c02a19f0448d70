"""musicapp.platform.mirror: Redis values copied in each process, kept current by notices."""

import time

import pytest
from django.core.cache import cache
from django_redis import get_redis_connection  # type: ignore[import-untyped]

from musicapp.platform import scoped_cache
from musicapp.platform.metrics import mirror_reads
from musicapp.platform.mirror import mirror
from tests.support.processes import another_process, wait_until_current

pytestmark = pytest.mark.django_db


def reads() -> dict[str, float]:
    return {source: mirror_reads.labels(source)._value.get() for source in ("copy", "redis")}


def test_a_value_read_once_is_read_again_from_the_copy_without_a_round_trip():
    wait_until_current()
    assert mirror.get_many(["mirror:test"]) == {"mirror:test": None}  # from Redis, then kept
    before = reads()
    for _ in range(200):
        assert mirror.get_many(["mirror:test"]) == {"mirror:test": None}
        time.sleep(0.001)
    after = reads()
    # Redis only while a ping's answer (every 100 ms) waited unread on the socket.
    assert after["copy"] - before["copy"] >= 180
    assert after["redis"] - before["redis"] <= 20


def test_a_change_announced_by_another_process_is_read_here_at_once(monkeypatch):
    hear = mirror._hear

    def slow_listener(notice: bytes) -> None:
        time.sleep(0.05)  # a listener late to apply a notice: readers must not use the copy meanwhile
        hear(notice)

    monkeypatch.setattr(mirror, "_hear", slow_listener)
    with another_process() as other:
        other("from musicapp.platform import scoped_cache")
        wait_until_current()
        for _ in range(30):
            before = scoped_cache.version("catalog")
            other("scoped_cache.changed_on_commit('catalog')")  # done when the other process answers
            assert scoped_cache.version("catalog") > before


def test_a_write_that_is_not_announced_is_not_seen_while_the_copy_is_current():
    # The contract's other side: every write of a mirrored value goes through the mirror.
    wait_until_current()
    before = scoped_cache.version("catalog")
    get_redis_connection("default").incr(cache.make_key("catalog:version"))
    seen = [scoped_cache.version("catalog") for _ in range(50)]
    assert seen.count(before) >= 40


def test_copies_go_when_the_listener_loses_redis_so_a_notice_it_missed_cannot_leave_one_stale():
    wait_until_current()
    assert mirror.get_many(["mirror:test"]) == {"mirror:test": None}
    redis = get_redis_connection("default")
    redis.client_kill_filter(_type="pubsub")
    redis.set(cache.make_key("mirror:test"), 7)  # announced to no one: the listener is gone

    assert mirror.get_many(["mirror:test"]) == {"mirror:test": 7}
    wait_until_current()  # back, on a new connection
    assert mirror.get_many(["mirror:test"]) == {"mirror:test": 7}


def test_a_process_keeps_its_own_write_at_once_and_others_hear_it(django_capture_on_commit_callbacks):
    wait_until_current()
    before = scoped_cache.version("catalog")
    with django_capture_on_commit_callbacks(execute=True):
        scoped_cache.changed_on_commit("catalog")
    assert scoped_cache.version("catalog") == before + 1
    assert int(cache.get("catalog:version")) == before + 1


def test_unread_bytes_and_a_closed_connection_are_told_without_consuming_anything():
    import socket

    from musicapp.platform.mirror import _unread

    ours, theirs = socket.socketpair()
    with ours, theirs:
        assert _unread(ours.fileno()) is False
        theirs.sendall(b"a notice")
        assert _unread(ours.fileno()) is True
        assert ours.recv(100) == b"a notice"  # not consumed by the check
        assert _unread(ours.fileno()) is False
        theirs.close()  # Redis closed the connection: nothing to read but its end
        assert _unread(ours.fileno()) is True
        closed = ours.fileno()
    assert _unread(closed) is True  # a socket gone: never taken for a quiet one


def test_values_read_from_another_redis_never_become_copies_of_this_ones():
    from django.test import override_settings

    from tests.support.servers import redis_server

    wait_until_current()
    assert mirror.get_many(["mirror:test"]) == {"mirror:test": None}  # kept: absent here
    other = {"BACKEND": "django_redis.cache.RedisCache"}
    with redis_server() as (url, _proc), override_settings(CACHES={"default": {**other, "LOCATION": url}}):
        cache.set("mirror:test", 5)
        assert mirror.get_many(["mirror:test"]) == {"mirror:test": 5}  # from that Redis
        scoped_cache.changed_on_commit("catalog")  # autocommit: a bump there, at once
    assert mirror.get_many(["mirror:test"]) == {"mirror:test": None}
    assert scoped_cache.version("catalog") == int(cache.get("catalog:version"))
