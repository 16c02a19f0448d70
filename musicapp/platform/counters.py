"""django-ratelimit's counters in one Redis round trip instead of two.

django-ratelimit counts a hit with `cache.add(key, 1, ttl)` and, when the key was already
there, `cache.incr(key)`: two round trips on every API request (a quarter to two fifths of a
hot read's CPU, docs/PROFILES.md). This backend, used only for the rate-limit counters
(RATELIMIT_USE_CACHE = "ratelimit", the same Redis), does both in one script, `SET NX EX` or
else `INCR`, and hands the count it got to the `incr()` that follows in the same thread.
Atomic too: a counter that expires between the two calls is no longer recreated without expiry.
"""

from __future__ import annotations

import threading
from typing import Any

from django_prometheus.cache.backends.redis import RedisCache

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
