"""Small Redis values read on nearly every request, mirrored in each process and kept current
by notices over Redis pub/sub, so that reading them costs no round trip.

What is mirrored: the versions of cached scopes (musicapp.platform.scoped_cache, among them a
user's "auth" scope, which every save of the user bumps) and the marks of ended logins
(accounts.revocation). Both only grow: a version is bumped, a login is marked once. A writer
changes the value in Redis and announces it on CHANNEL in the same round trip; in each process
a listener thread applies what it hears to its copies. A token check was one round trip on
every authenticated request, about half of such a request's CPU on a loaded worker.

A copy is used only while this process is provably up to date with the channel:
  - the listener's last ping, sent through its subscribed connection, was answered less than
    MAX_LAG_S ago. Redis answers in order, so every notice published before that ping has been
    applied; a listener that hears nothing (a dead connection, a hung Redis) stops being
    trusted within MAX_LAG_S;
  - no notice waits unread on the listener's socket, and none is being applied. A notice
    published before a request began (a sign-out whose answer the client already has) is
    therefore seen by that request, in any process: its bytes are in the socket by then.
Otherwise the reader asks Redis, and keeps what it got. When the listener loses its connection
every copy is dropped (notices may have been missed), and copies are kept only for the Redis
that the default cache uses now (tests swap it).
"""

from __future__ import annotations

import ctypes
import logging
import os
import select
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from django.conf import settings
from django.core.cache import cache, caches

from musicapp.platform.metrics import mirror_reads

logger = logging.getLogger(__name__)

CHANNEL = "mirror"  # made a key of the cache's (its prefix) and of its database number: see _channel()
PING_S = 0.1
MAX_LAG_S = 0.5
DEAD_S = 5.0  # a ping unanswered this long: the connection is given up and made again
MAX_COPIES = 100_000

# The key's INCR, or its first value when it has none; announced; the value.
BUMP = """
local value
if redis.call('EXISTS', KEYS[1]) == 1 then
  value = redis.call('INCR', KEYS[1])
else
  value = tonumber(ARGV[1])
  redis.call('SET', KEYS[1], ARGV[1])
end
redis.call('PUBLISH', ARGV[2], 'v ' .. string.format('%d', value) .. ' ' .. ARGV[3])
return value
"""
_FROM_COPY, _FROM_REDIS = mirror_reads.labels("copy"), mirror_reads.labels("redis")


class Mirror:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.copies: dict[str, int | None] = {}
        self.drops = 0  # how many times the copies were dropped: a read begun before keeps nothing
        self.listening = False  # subscribed, as the first answered ping on the connection proved
        self.confirmed = float("-inf")  # when the last answered ping was sent (time.monotonic)
        self.draining = False
        self.fd = -1
        self.location: object = None
        self.pid = 0

    # Readers.

    def get_many(self, keys: Sequence[str]) -> dict[str, int | None]:
        """Each key's value (None: absent), from this process's copies when they are current,
        else from Redis in one round trip."""
        if self.current():
            copies = self.copies
            try:
                found = {key: copies[key] for key in keys}
            except KeyError:
                pass
            else:
                _FROM_COPY.inc()
                return found
        # Kept only if the listener was subscribed before the read: a value read while it was
        # not could be changed by a notice it never hears.
        drops, listening = self.drops, self._listening_here()
        values = cache.get_many(keys)
        _FROM_REDIS.inc()
        found = {key: _int(values.get(key)) for key in keys}
        if listening:
            self.keep(found, drops)
        return found

    def start(self, key: str, first: Callable[[], int]) -> int:
        """The value of a counter get_many() found absent: set to first() unless another process
        set it meanwhile (not announced: a copy of an absent key is never used as a value, so
        every process asks Redis for it)."""
        drops, listening = self.drops, self._listening_here()
        found = int(cache.get_or_set(key, first, timeout=None) or first())
        if listening:
            self.keep({key: found}, drops)
        return found

    def current(self) -> bool:
        """Whether this process's copies are up to date with every notice published so far."""
        if self.pid != os.getpid():
            self._listen_in_background()
            return False
        if not self._listening_here() or self.fd < 0:
            return False
        # The socket first, then the flag: a notice read off the socket before this check is
        # either still being applied (draining) or applied.
        if _unread(self.fd) or self.draining:
            return False
        return time.monotonic() - self.confirmed < MAX_LAG_S

    def _listening_here(self) -> bool:
        """Subscribed to the Redis the default cache uses now (tests swap it for another)."""
        return self.listening and self.location == settings.CACHES["default"]["LOCATION"]

    def keep(self, found: dict[str, int | None], drops: int) -> None:
        """Keep values read from Redis, unless the copies were dropped since the read began."""
        with self.lock:
            if drops != self.drops:
                return
            if len(self.copies) + len(found) > MAX_COPIES:
                self._drop()
                return
            for key, value in found.items():
                self._raise(key, value)

    # Writers: change Redis and announce it, then this process's own copy at once.

    def bump(self, key: str, first: int) -> int:
        """INCR the counter `key` (set to `first` if it has none) and announce its new value."""
        client = cache.client.get_client(write=True)  # type: ignore[attr-defined]  # django-redis
        value = int(client.eval(BUMP, 1, cache.make_key(key), first, _channel(client), key))
        if self._listening_here():
            with self.lock:
                self._raise(key, value)
        return value

    def set_many(self, values: dict[str, int], timeout: int) -> None:
        cache.set_many(values, timeout=timeout)
        client = cache.client.get_client(write=True)  # type: ignore[attr-defined]  # django-redis
        pipe = client.pipeline(transaction=False)
        for key, value in values.items():
            pipe.publish(_channel(client), f"v {value} {key}")
        pipe.execute()
        if self._listening_here():
            with self.lock:
                for key, value in values.items():
                    self._raise(key, value)

    def drop_everywhere(self) -> None:
        """Every process forgets its copies (after values were deleted or replaced in bulk)."""
        client = cache.client.get_client(write=True)  # type: ignore[attr-defined]  # django-redis
        client.publish(_channel(client), "drop")
        self.drop()

    def drop(self) -> None:
        with self.lock:
            self._drop()

    # The listener.

    def _hear(self, notice: bytes) -> None:
        kind, _, rest = notice.decode().partition(" ")
        with self.lock:
            if kind == "v":
                value, _, key = rest.partition(" ")
                self._raise(key, int(value))
            elif kind == "drop":
                self._drop()

    def _raise(self, key: str, value: int | None) -> None:
        # Mirrored values only grow: a notice that arrives after a newer value was read (or
        # written here) changes nothing.
        held = self.copies.get(key)
        if held is None or (value is not None and value > held):
            self.copies[key] = value

    def _drop(self) -> None:
        self.copies = {}
        self.drops += 1

    def _lost(self) -> None:
        with self.lock:
            self.fd = -1
            self.listening = False
            self.confirmed = float("-inf")
            self._drop()

    def _listen_in_background(self) -> None:
        with self.lock:
            if self.pid == os.getpid():
                return
            self.pid = os.getpid()  # a forked child listens for itself
            self.fd = -1
            self._drop()
        threading.Thread(target=self._listen_forever, name="musicapp-mirror", daemon=True).start()

    def _listen_forever(self) -> None:
        pause = PING_S
        while True:
            started = time.monotonic()
            try:
                self._listen()
            except Exception as error:  # noqa: BLE001 - logged; the copies go, reads ask Redis
                logger.warning("Mirror listener lost Redis (%s); reads ask Redis until it is back", error)
            self._lost()
            # Again at once after a long good run; after quick failures, less and less often.
            pause = PING_S if time.monotonic() - started > 10 else min(pause * 2, 5.0)
            time.sleep(pause)

    def _listen(self) -> None:
        self.location = settings.CACHES["default"]["LOCATION"]
        client = caches["default"].client.get_client(write=True)  # type: ignore[attr-defined]  # django-redis
        pubsub = client.pubsub()
        try:
            pubsub.subscribe(_channel(client))
            connection = pubsub.connection
            poller = select.poll()
            poller.register(connection._sock.fileno(), select.POLLIN)
            self.fd = connection._sock.fileno()
            ping_sent: float | None = None
            next_ping = time.monotonic()
            while True:
                now = time.monotonic()
                if ping_sent is None and now >= next_ping:
                    pubsub.ping()
                    ping_sent = now
                elif ping_sent is not None and now - ping_sent > DEAD_S:
                    raise TimeoutError(f"no answer to a ping in {DEAD_S} s")
                wait = next_ping - now if ping_sent is None else PING_S
                if not poller.poll(max(wait, 0) * 1000):
                    continue
                self.draining = True
                try:
                    while connection.can_read(timeout=0):  # the socket, and what redis-py buffered
                        message = pubsub.get_message(timeout=0)
                        if message is None:
                            continue  # redis-py's own health check, answered
                        if message["type"] == "message":
                            self._hear(message["data"])
                        elif message["type"] == "pong" and ping_sent is not None:
                            self.confirmed, next_ping, ping_sent = ping_sent, ping_sent + PING_S, None
                            self.listening = True
                finally:
                    self.draining = False
        finally:
            self._lost()
            pubsub.close()


# poll() through ctypes.PyDLL, which keeps the GIL during the call: the check runs a few times
# per request, and a call that lets the GIL go (select.poll, fcntl.ioctl) makes the thread queue
# for it again behind the process's other threads (a loaded worker's requests cost about a tenth
# more CPU with select.poll here). poll, not ioctl(FIONREAD): a connection Redis closed has no
# bytes to read, only its end, which poll reports.
class _PollFd(ctypes.Structure):
    _fields_ = [("fd", ctypes.c_int), ("events", ctypes.c_short), ("revents", ctypes.c_short)]


_poll = ctypes.PyDLL(None, use_errno=True).poll
_poll.argtypes = (ctypes.POINTER(_PollFd), ctypes.c_ulong, ctypes.c_int)
_poll.restype = ctypes.c_int


def _unread(fd: int) -> bool:
    """Whether socket `fd` has something to read: bytes, or its end (a closed connection). An
    error, or a descriptor that is not open, counts as yes."""
    probe = _PollFd(fd, select.POLLIN, 0)
    return _poll(ctypes.byref(probe), 1, 0) != 0


def _channel(client: Any) -> str:
    """Pub/sub channels span a Redis server's databases and the apps that share it: the
    channel is named after the cache's key prefix and database, as its keys are."""
    return f"{cache.make_key(CHANNEL)}:db{client.connection_pool.connection_kwargs.get('db', 0)}"


def _int(value: Any) -> int | None:
    return None if value is None else int(value)


mirror = Mirror()
