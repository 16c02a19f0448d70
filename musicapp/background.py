"""Work that must not delay (or be timed through) a response: mail, and flows whose duration
would tell whether an email has an account. A small thread pool per process; off in tests
(BACKGROUND_ASYNC), where the work runs inline. Work still queued when a process stops is lost,
which for mail means the user asks for a new code."""

import logging
from concurrent.futures import ThreadPoolExecutor

from django.conf import settings
from django.db import connections

logger = logging.getLogger(__name__)
_executor = ThreadPoolExecutor(max_workers=2, thread_name_prefix="background")


def _run(fn, args, kwargs) -> None:
    try:
        fn(*args, **kwargs)
    except Exception:
        logger.exception("background task %s failed", getattr(fn, "__qualname__", fn))
    finally:
        connections.close_all()  # give this thread's connections back to the pool


def run_in_background(fn, /, *args, **kwargs) -> None:
    if settings.BACKGROUND_ASYNC:
        _executor.submit(_run, fn, args, kwargs)
    else:
        fn(*args, **kwargs)
