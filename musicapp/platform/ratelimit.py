"""Rate limits, counted by django-ratelimit in Redis.

The default API rate limit (API_RATE, 1,000 requests per 15 minutes) per user, or per IP
when anonymous. Counting is django-ratelimit's (its keys and windows, counters in Redis),
batched for this generous limit (musicapp.platform.counters.BatchedCounts); it runs as a DRF
throttle so that it sees the user that JWT authentication found, and DRF's Throttled
turns into a 429 envelope with Retry-After.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.signals import setting_changed
from django.http import HttpRequest
from django_ratelimit import ALL
from django_ratelimit.core import EXPIRATION_FUDGE, _get_window, _make_cache_key, _split_rate, get_usage, user_or_ip
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle

from musicapp.platform import metrics
from musicapp.platform.counters import BatchedCounts
from musicapp.platform.errors import RateLimited

if TYPE_CHECKING:  # DRF loads this module while rest_framework.views is still loading
    from rest_framework.views import APIView


def enforce(request: HttpRequest | Request | None, *, group: str, value: str, rate: str) -> None:
    """Count one hit of `value` (an IP, an email...) in `group`; raise RateLimited past `rate`.

    The value is hashed into the Redis key by django-ratelimit, so emails are not stored.
    """
    usage = get_usage(
        getattr(request, "_request", request), group=group, key=lambda _g, _r: value, rate=rate, increment=True
    )
    if usage is not None and usage["should_limit"]:
        metrics.rate_limited.labels(group=group).inc()
        raise RateLimited(usage["time_left"])


api_counts = BatchedCounts(settings.RATELIMIT_USE_CACHE)


class _Keys:
    """The API limit's counter key of a client, remembered: django-ratelimit works it out from
    the address (parsed twice, by net.client_ip and by its own mask) and an MD5 on every
    request, 12 of the 16 us the limit cost a request. Forgotten when settings change (tests)
    and past MAX entries."""

    MAX = 10_000

    def __init__(self) -> None:
        self.values: dict[tuple[str, ...], str] = {}
        self.keys: dict[tuple[str, int, str], str] = {}

    def value(self, request: HttpRequest) -> str:
        """django-ratelimit's "user_or_ip" for this request."""
        user = request.user
        if user.is_authenticated:
            return str(user.pk)
        meta = request.META
        who = (meta.get("REMOTE_ADDR", ""), meta.get("HTTP_X_FORWARDED_FOR", ""))
        found = self.values.get(who)
        if found is None:
            found = user_or_ip(request)
            self._remember(self.values, who, found)
        return found

    def key(self, group: str, rate: str, value: str, period: int) -> tuple[str, int]:
        window = _get_window(value, period)
        found = self.keys.get((value, window, rate))
        if found is None:
            found = _make_cache_key(group, window, rate, value, ALL)
            self._remember(self.keys, (value, window, rate), found)
        return found, window

    def _remember(self, memo: dict, key: tuple, value: str) -> None:
        if len(memo) >= self.MAX:
            memo.clear()
        memo[key] = value

    def forget(self, **_: object) -> None:
        self.values.clear()
        self.keys.clear()


_keys = _Keys()
setting_changed.connect(_keys.forget, weak=False, dispatch_uid="musicapp.platform.ratelimit.keys")


class ApiRateThrottle(BaseThrottle):
    group = "api"

    def get_rate(self) -> str:
        return settings.API_RATE

    def allow_request(self, request: Request, view: APIView) -> bool:
        """django-ratelimit's get_usage(key="user_or_ip"), with the same key, window and Redis
        counter, but counted through BatchedCounts: far from its limit, a hit costs no round
        trip (tests/test_api_platform.py checks that both count the same counter)."""
        if not settings.RATELIMIT_ENABLE:
            return True
        rate = self.get_rate()
        limit, period = _split_rate(rate)
        # request.user is the user JWT authentication found (DRF sets it on the Django request),
        # and the IP is RATELIMIT_IP_META_KEY's, i.e. musicapp.platform.net.client_ip.
        key, window = _keys.key(self.group, rate, _keys.value(request._request), period)
        count = api_counts.hit(key, limit=limit, ttl=period + EXPIRATION_FUDGE)
        self.time_left = window - int(time.time())
        if count > limit:
            metrics.rate_limited.labels(group=self.group).inc()
            return False
        return True

    def wait(self) -> float:
        return max(1, getattr(self, "time_left", 1))
