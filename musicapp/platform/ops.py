"""Operator endpoints: /health (real dependency checks) and /metrics (Prometheus)."""

from __future__ import annotations

import hmac
import logging
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django_prometheus.exports import ExportToDjangoView
from drf_spectacular.utils import extend_schema
from rest_framework.decorators import api_view, authentication_classes, permission_classes, throttle_classes
from rest_framework.permissions import AllowAny

from musicapp.platform import switches
from musicapp.platform.errors import NotAllowed, Unauthorized
from musicapp.platform.handlers import error_response
from musicapp.platform.health import run_checks
from musicapp.platform.net import address_in, client_ip

logger = logging.getLogger(__name__)


def operator_view(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """GET only (other methods get a 405 envelope), no JWT, no rate limit, never cached."""
    view = throttle_classes([])(permission_classes([AllowAny])(authentication_classes([])(view)))
    return never_cache(api_view(["GET"])(view))


@extend_schema(exclude=True)
@operator_view
def health(request: HttpRequest) -> JsonResponse:
    ok, latency = run_checks()
    healthy = all(ok.values())
    body: dict[str, Any] = {
        "status": "healthy" if healthy else "degraded",
        "checks": ok,
        "latencyMs": latency,
        # The operator's switches; while a dependency fails, what this process last read.
        "switches": (switches.current() if healthy else switches.last_known()).as_json(),
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
    return address_in(client_ip(request), settings.METRICS_ALLOWED_IPS)


@extend_schema(exclude=True)
@operator_view
def prometheus_metrics(request: HttpRequest) -> HttpResponse:
    """Prometheus text format, for a bearer METRICS_TOKEN or an address in METRICS_ALLOWED_IPS."""
    if not _metrics_allowed(request):
        text = "Metrics need the metrics token or an allowed address."
        if request.META.get("HTTP_AUTHORIZATION"):
            return error_response(NotAllowed(text))
        response = error_response(Unauthorized(text))
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    return ExportToDjangoView(request)
