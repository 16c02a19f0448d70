"""Running the same work on several threads at once, as concurrent requests would."""

from __future__ import annotations

import threading
from collections.abc import Callable

from django.db import connection


def at_once(work: Callable[[], object], threads: int, timeout: float = 30) -> list[Exception]:
    """work() on `threads` threads released together; the exceptions they raised (none: [])."""
    barrier = threading.Barrier(threads)
    errors: list[Exception] = []

    def run() -> None:
        try:
            barrier.wait()
            work()
        except Exception as exc:  # noqa: BLE001 - collected for the caller to assert on
            errors.append(exc)
        finally:
            connection.close()  # each thread's own connection

    started = [threading.Thread(target=run) for _ in range(threads)]
    for thread in started:
        thread.start()
    for thread in started:
        thread.join(timeout)
    return errors
