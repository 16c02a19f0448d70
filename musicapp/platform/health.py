"""Dependency checks behind /health. The platform checks what it owns (the database, Redis);
apps register their own in AppConfig.ready() (search registers "search"), so the platform never
imports an app to learn what to check."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout

from django.conf import settings
from django.db import connection
from django_redis import get_redis_connection  # type: ignore[import-untyped]

from musicapp.platform import metrics

logger = logging.getLogger(__name__)

Check = Callable[[], None]
_checks: dict[str, Check] = {}


def register(name: str, check: Check) -> None:
    """check() returns when the dependency answered and raises when it did not."""
    _checks[name] = check


def registered() -> dict[str, Check]:
    return dict(_checks)


def check_database() -> None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    finally:
        # Checks run on their own threads: hand the connection back to the pool, not keep it per thread.
        connection.close()


def check_redis() -> None:
    get_redis_connection("default").ping()


register("database", check_database)
register("redis", check_redis)


_executor = ThreadPoolExecutor(max_workers=6, thread_name_prefix="health")


def _timed(check: Check) -> float:
    start = time.perf_counter()
    check()
    return round((time.perf_counter() - start) * 1000, 2)


def run_checks() -> tuple[dict[str, bool], dict[str, float | None]]:
    """All checks at once, each bounded by HEALTH_CHECK_TIMEOUT_S, so a dead dependency
    makes /health answer "degraded" in about that time instead of hanging."""
    futures = {name: _executor.submit(_timed, check) for name, check in registered().items()}
    ok: dict[str, bool] = {}
    latency: dict[str, float | None] = {}
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
