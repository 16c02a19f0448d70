"""Rate-limit counters in Redis: django-ratelimit's in one round trip instead of two, and the
API's generous limit in batches (BatchedCounts).

django-ratelimit counts a hit with `cache.add(key, 1, ttl)` and, when the key was already
there, `cache.incr(key)`: two round trips on every API request (a quarter to two fifths of a
hot read's CPU, docs/PROFILES.md). This backend, used only for the rate-limit counters
(RATELIMIT_USE_CACHE = "ratelimit", the same Redis), does both in one script, `SET NX EX` or
else `INCR`, and hands the count it got to the `incr()` that follows in the same thread.
Atomic too: a counter that expires between the two calls is no longer recreated without expiry.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from typing import Any

from django.core.cache import caches
from django_prometheus.cache.backends.redis import RedisCache

logger = logging.getLogger(__name__)

# {1, 1} when the counter was created (with its expiry), else {0, its new count}.
ADD_OR_INCR = """
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'EX', ARGV[2]) then return {1, 1} end
return {0, redis.call('INCR', KEYS[1])}
"""


class CounterCache(RedisCache):
    _counted = threading.local()

    def add(self, key: Any, value: Any, timeout: Any = None, version: Any = None, client: Any = None) -> bool:
        if value != 1 or not timeout or client is not None:
            return super().add(key, value, timeout, version=version, client=client)
        made = self.client.make_key(key, version=version)
        created, count = self.client.get_client(write=True).eval(ADD_OR_INCR, 1, made, 1, int(timeout))
        if created:
            return True
        self._counted.value = (str(made), int(count))
        return False

    def incr(self, key: Any, delta: int = 1, version: Any = None, client: Any = None) -> int:
        counted, self._counted.value = getattr(self._counted, "value", None), None
        if counted is not None and delta == 1 and counted[0] == str(self.client.make_key(key, version=version)):
            return counted[1]  # counted by add() a moment ago, in this thread
        return super().incr(key, delta, version=version, client=client)


# Every key's INCRBY, and its expiry when that INCRBY made it; the totals, in KEYS' order.
ADD_MANY = """
local totals = {}
for i, key in ipairs(KEYS) do
  local total = redis.call('INCRBY', key, ARGV[2 * i - 1])
  if total == tonumber(ARGV[2 * i - 1]) then redis.call('EXPIRE', key, ARGV[2 * i]) end
  totals[i] = total
end
return totals
"""


class BatchedCounts:
    """Hits of a generous limit (the API's 1,000 per 15 minutes) counted in this process and
    sent to Redis in batches, so that a request far from its limit costs no round trip (one was
    about half of a cached anonymous read's CPU on a loaded worker).

    A hit is counted here, without Redis, only while all of these hold:
      - the limit is at least MIN_LIMIT (small limits, such as sign-in attempts, are always
        counted in Redis at once);
      - Redis told this process the key's total less than KNOWN_FOR seconds ago;
      - that total, plus this process's unsent hits, plus this one, stays below the limit by
        more than a tenth of it (the slack): near its limit every hit is counted in Redis,
        exactly;
      - fewer than a quarter of the slack are unsent here.
    Unsent hits go to Redis within INTERVAL seconds, all keys in one round trip, from a thread
    of this process. Near the limit each process counts in Redis, so what can come on top of
    the limit is the other processes' unsent hits, which this one cannot see: at most a quarter
    of the slack (a fortieth of the limit) each, and only within INTERVAL of reaching it. Hits
    of a process that dies unsent (INTERVAL's worth) are lost."""

    MIN_LIMIT = 100
    KNOWN_FOR = 1.0
    INTERVAL = 0.05

    def __init__(self, cache_alias: str) -> None:
        self.cache_alias = cache_alias
        self.lock = threading.Lock()
        self.pending: dict[str, tuple[int, int]] = {}  # Redis key -> (unsent hits, its expiry)
        self.known: dict[str, tuple[int, float]] = {}  # Redis key -> (total, when Redis said so)
        self.wake = threading.Event()
        self.pid = 0

    def hit(self, key: str, *, limit: int, ttl: int) -> int:
        """Count one hit of `key` (a cache key: the alias's prefix is added); the count so far
        across processes, as far as this process knows it (exact near the limit)."""
        slack = limit // 10
        with self.lock:
            total, told_at = self.known.get(key, (0, 0.0))
            unsent = self.pending.get(key, (0, ttl))[0]
            if (
                limit >= self.MIN_LIMIT
                and time.monotonic() - told_at < self.KNOWN_FOR
                and unsent < slack // 4
                and total + unsent + 1 <= limit - slack
            ):
                self.pending[key] = (unsent + 1, ttl)
                self._flush_soon()
                return total + unsent + 1
            self.pending.pop(key, None)
        return self._send({key: (unsent + 1, ttl)})[key]

    def flush(self) -> None:
        """Send every unsent hit now (the thread does, every INTERVAL)."""
        with self.lock:
            batch, self.pending = self.pending, {}
        if not batch:
            return
        try:
            self._send(batch)
        except Exception:
            with self.lock:  # kept for the next flush; Redis errors reach requests by hit()
                for key, (hits, ttl) in batch.items():
                    self.pending[key] = (self.pending.get(key, (0, ttl))[0] + hits, ttl)
            raise

    def forget(self) -> None:
        """Drop what this process knows and has not sent (tests, after emptying Redis)."""
        with self.lock:
            self.pending.clear()
            self.known.clear()

    def _send(self, batch: dict[str, tuple[int, int]]) -> dict[str, int]:
        cache = caches[self.cache_alias]
        keys = list(batch)
        args = [value for key in keys for value in batch[key]]
        client = cache.client.get_client(write=True)  # type: ignore[attr-defined]  # django-redis
        totals = client.eval(ADD_MANY, len(keys), *(cache.make_key(key) for key in keys), *args)
        now = time.monotonic()
        with self.lock:
            if len(self.known) > 100_000:  # one entry per recently seen user or address
                self.known.clear()
            for key, total in zip(keys, totals, strict=True):
                self.known[key] = (int(total), now)
        return {key: int(total) for key, total in zip(keys, totals, strict=True)}

    def _flush_soon(self) -> None:
        if self.pid != os.getpid():  # first use in this process (or a forked child)
            self.pid = os.getpid()
            self.wake = threading.Event()
            threading.Thread(target=self._run, name="musicapp-counts", daemon=True).start()
        self.wake.set()

    def _run(self) -> None:
        while True:
            self.wake.wait()
            time.sleep(self.INTERVAL)
            self.wake.clear()
            try:
                self.flush()
            except Exception:
                logger.warning("Could not send rate-limit counts to Redis; kept for the next try", exc_info=True)
