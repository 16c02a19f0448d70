"""Dependency checks behind /health. The platform checks what it owns (the database, Redis);
apps register their own in AppConfig.ready() (search registers "search"), so the platform never
imports an app to learn what to check."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
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


# One worker thread per check, and at most one run of a check in flight: while a dependency
# hangs, later /health calls wait on the run already going (each with its own deadline)
# instead of piling hung threads into a shared pool, where they once made healthy checks
# queue, time out, and get blamed for the hung one.
_executors: dict[str, ThreadPoolExecutor] = {}
_in_flight: dict[str, Future[float]] = {}
_lock = threading.Lock()


def _timed(check: Check) -> float:
    start = time.perf_counter()
    check()
    return round((time.perf_counter() - start) * 1000, 2)


def _run(name: str, check: Check) -> Future[float]:
    with _lock:
        running = _in_flight.get(name)
        if running is not None and not running.done():
            return running
        executor = _executors.get(name)
        if executor is None:
            executor = _executors[name] = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"health-{name}")
        _in_flight[name] = future = executor.submit(_timed, check)
        return future


def run_checks() -> tuple[dict[str, bool], dict[str, float | None]]:
    """All checks at once, each bounded by HEALTH_CHECK_TIMEOUT_S on its own, so a dead or hung
    dependency makes /health answer "degraded" in about that time, blaming that one alone."""
    futures = {name: _run(name, check) for name, check in registered().items()}
    deadline = time.monotonic() + settings.HEALTH_CHECK_TIMEOUT_S
    ok: dict[str, bool] = {}
    latency: dict[str, float | None] = {}
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
