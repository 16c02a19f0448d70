"""Operator endpoints: /health (real dependency checks) and /metrics (Prometheus)."""

from __future__ import annotations

import hmac
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django_prometheus.exports import ExportToDjangoView
from django_redis import get_redis_connection
from drf_spectacular.utils import extend_schema
from rest_framework.decorators import api_view, authentication_classes, permission_classes, throttle_classes
from rest_framework.permissions import AllowAny

from musicapp import metrics
from musicapp.errors import envelope
from musicapp.net import client_ip
from search.backends import get_backend

logger = logging.getLogger(__name__)


def check_database() -> None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    finally:
        # Checks run on executor threads: hand the connection back to the pool, not keep it per thread.
        connection.close()


def check_redis() -> None:
    get_redis_connection("default").ping()


def check_search() -> None:
    try:
        get_backend().ping()
    finally:
        connection.close()


CHECKS = {"database": check_database, "redis": check_redis, "search": check_search}
_executor = ThreadPoolExecutor(max_workers=6, thread_name_prefix="health")


def _timed(check) -> float:
    start = time.perf_counter()
    check()
    return round((time.perf_counter() - start) * 1000, 2)


def run_checks() -> tuple[dict[str, bool], dict[str, float]]:
    """All checks at once, each bounded by HEALTH_CHECK_TIMEOUT_S, so a dead dependency
    makes /health answer "degraded" in about that time instead of hanging."""
    futures = {name: _executor.submit(_timed, check) for name, check in CHECKS.items()}
    ok, latency = {}, {}
    deadline = time.monotonic() + settings.HEALTH_CHECK_TIMEOUT_S
    for name, future in futures.items():
        try:
            latency[name] = future.result(timeout=max(0.0, deadline - time.monotonic()))
            ok[name] = True
        except FutureTimeout:
            ok[name], latency[name] = False, settings.HEALTH_CHECK_TIMEOUT_S * 1000
            logger.warning("health check %s timed out", name)
        except Exception as exc:  # noqa: BLE001 - any failure of a dependency is "degraded"
            ok[name], latency[name] = False, None
            logger.warning("health check %s failed: %r", name, exc)
        metrics.health_check_up.labels(check=name).set(1 if ok[name] else 0)
        if not ok[name]:
            metrics.health_check_failures.labels(check=name).inc()
    return ok, latency


def operator_view(view):
    """GET only (other methods get a 405 envelope), no JWT, no rate limit, never cached."""
    view = throttle_classes([])(permission_classes([AllowAny])(authentication_classes([])(view)))
    return never_cache(api_view(["GET"])(view))


@extend_schema(exclude=True)
@operator_view
def health(request: HttpRequest) -> JsonResponse:
    ok, latency = run_checks()
    healthy = all(ok.values())
    body = {
        "status": "healthy" if healthy else "degraded",
        "checks": ok,
        "latencyMs": latency,
        "timestamp": timezone.now().isoformat().replace("+00:00", "Z"),
    }
    if not healthy:
        body["failed"] = [name for name, passed in ok.items() if not passed]
    return JsonResponse(body, status=200 if healthy else 503)


def _metrics_allowed(request: HttpRequest) -> bool:
    token = settings.METRICS_TOKEN
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if token and hmac.compare_digest(header.encode(), f"Bearer {token}".encode()):
        return True
    return client_ip(request) in settings.METRICS_ALLOWED_IPS


@extend_schema(exclude=True)
@operator_view
def prometheus_metrics(request: HttpRequest) -> HttpResponse:
    """Prometheus text format, for a bearer METRICS_TOKEN or an address in METRICS_ALLOWED_IPS."""
    if not _metrics_allowed(request):
        status = 401 if not request.META.get("HTTP_AUTHORIZATION") else 403
        response = JsonResponse(envelope("Metrics need the metrics token or an allowed address."), status=status)
        if status == 401:
            response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    return ExportToDjangoView(request)
