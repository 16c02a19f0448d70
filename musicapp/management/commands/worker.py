"""`manage.py worker`: the job worker (the Procfile's `worker`), kept running through database
outages.

procrastinate's own `manage.py procrastinate worker` stops, with exit code 0, as soon as one of
its side tasks fails: its LISTEN connection, its heartbeat or its scheduler, which is what a
PostgreSQL restart or a dropped connection does (docs/RELIABILITY.md, drill "PostgreSQL
restarted"). A process manager that restarts only failed processes would then leave the queue
unworked, and honcho (`make run`) would stop the whole server with it. This command runs the same
worker and, when it stops by itself, starts it again after a pause (1 s, doubling to 30 s while
the database stays away); its connection pool opens fresh connections. SIGTERM or SIGINT stop it
for good, gracefully: running jobs get settings.PROCRASTINATE_WORKER_DEFAULTS'
shutdown_graceful_timeout to finish.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal

from django.core.management.base import BaseCommand
from procrastinate.contrib.django import app, django_connector

logger = logging.getLogger(__name__)

FIRST_PAUSE_S = 1.0
LONGEST_PAUSE_S = 30.0
# A worker that ran this long before it stopped was healthy: the next pause starts short again.
HEALTHY_AFTER_S = 60.0


class Command(BaseCommand):
    help = "Run the job worker; restart it when it stops by itself (a lost database connection)."

    def add_arguments(self, parser):
        parser.add_argument("--queue", action="append", dest="queues", help="a queue to work (default: all)")
        parser.add_argument("--concurrency", type=int, help="jobs run at once (default: JOBS_CONCURRENCY)")

    def handle(self, *args, queues, concurrency, **options):
        options_ = {"queues": queues, "install_signal_handlers": False}
        if concurrency:
            options_["concurrency"] = concurrency
        connector = app.connector
        context = (
            app.replace_connector(connector.get_worker_connector())
            if isinstance(connector, django_connector.DjangoConnector)
            else contextlib.nullcontext()
        )
        with context:
            asyncio.run(supervise(options_))


async def supervise(worker_options: dict) -> None:
    loop = asyncio.get_running_loop()
    stopping = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stopping.set)
    pause = FIRST_PAUSE_S
    async with app.open_async():
        while not stopping.is_set():
            started = loop.time()
            worker = asyncio.create_task(app.run_worker_async(**worker_options), name="worker")
            stop_requested = asyncio.create_task(stopping.wait())
            await asyncio.wait({worker, stop_requested}, return_when=asyncio.FIRST_COMPLETED)
            if stopping.is_set():
                # procrastinate stops gracefully when its run is cancelled: it lets running jobs
                # finish (up to shutdown_graceful_timeout), then returns.
                worker.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await worker
                return
            stop_requested.cancel()
            error = worker.exception()
            if loop.time() - started >= HEALTHY_AFTER_S:
                pause = FIRST_PAUSE_S
            logger.warning(
                "job worker stopped by itself (%s); starting it again in %.0f s",
                f"{type(error).__name__}: {error}" if error else "a side task failed: see above",
                pause,
                extra={"action": "worker_restart", "pause_s": pause},
            )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), pause)
            pause = min(pause * 2, LONGEST_PAUSE_S)
