"""Rate limits, counted by django-ratelimit in Redis.

The default API rate limit (API_RATE, 1,000 requests per 15 minutes) per user, or per IP
when anonymous. Counting is django-ratelimit's (counters in Redis); it runs as a DRF
throttle so that it sees the user that JWT authentication found, and DRF's Throttled
turns into a 429 envelope with Retry-After.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.http import HttpRequest
from django_ratelimit.core import get_usage
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle

from musicapp.platform import metrics
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


class ApiRateThrottle(BaseThrottle):
    group = "api"

    def get_rate(self) -> str:
        return settings.API_RATE

    def allow_request(self, request: Request, view: APIView) -> bool:
        # "user_or_ip": request.user is the user JWT authentication found (DRF sets it on the
        # Django request), and the IP is RATELIMIT_IP_META_KEY's, i.e. musicapp.platform.net.client_ip.
        usage = get_usage(request._request, group=self.group, key="user_or_ip", rate=self.get_rate(), increment=True)
        if usage is None:  # RATELIMIT_ENABLE=false
            return True
        self.time_left = usage["time_left"]
        if usage["should_limit"]:
            metrics.rate_limited.labels(group=self.group).inc()
            return False
        return True

    def wait(self) -> float:
        return max(1, getattr(self, "time_left", 1))
