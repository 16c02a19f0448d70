"""Durable background jobs, on procrastinate (a job queue kept in PostgreSQL; README: Decisions).

    from musicapp.platform.jobs import enqueue, job

    @job(name="accounts.send_email_code")
    def send_email_code(*, user_id: str, purpose: str) -> None: ...

    enqueue("accounts.send_email_code", user_id=user.pk, purpose="verify")   # in the write's transaction

Services enqueue a job by its name, so an app's tasks.py may import its services (the job's
body) without the services importing the tasks back.

A job is a row of procrastinate_jobs, inserted through Django's own connection: enqueued inside
a transaction, it commits or rolls back with the data (the outbox pattern with no outbox table),
so a rolled-back write enqueues nothing and a committed one never loses its job. Workers
(`manage.py worker`, the Procfile's `worker`) run on any number of machines, retry
failed jobs with backoff, run the periodic schedule (settings.JOB_SCHEDULES; several workers defer
each tick once), and report a heartbeat: the jobs of a worker that stopped beating (killed, its
machine gone) are retried by `retry_stalled_jobs`. Staff see failed jobs in the admin.

Jobs must be idempotent: a job may run twice after a crash.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django.conf import settings
from procrastinate import RetryStrategy
from procrastinate.contrib.django import app
from procrastinate.tasks import Task

__all__ = ["RETRY", "app", "enqueue", "job", "periodic"]

F = TypeVar("F", bound=Callable[..., Any])

# 3 s, 9 s, 27 s ... about 55 minutes over 8 attempts: long enough to ride out a mail or
# search outage, short enough that a user still gets their email the same hour.
RETRY = RetryStrategy(max_attempts=8, exponential_wait=3)


def job(*, name: str, queue: str = "default", retry: RetryStrategy | bool = RETRY, **options: Any) -> Callable:
    """Declare a job. The name is stored with every queued job, so it is spelled out here and
    never derived from a module path that a refactor could change under queued work."""
    return app.task(name=name, queue=queue, retry=retry, **options)


def periodic(*, schedule: str, name: str, **options: Any) -> Callable:
    """A job run on the cron schedule settings.JOB_SCHEDULES[schedule] (a 6th field = seconds).

    Decorates a job that takes `timestamp` (the tick's Unix time); procrastinate defers each tick
    once however many workers run.
    """
    cron = settings.JOB_SCHEDULES[schedule]

    def decorate(fn: F) -> Task:
        return app.periodic(cron=cron, periodic_id=schedule)(job(name=name, **options)(fn))

    return decorate


def enqueue(name: str, /, **kwargs: Any) -> int:
    """Queue the job `name` with kwargs in the caller's transaction (or at once, outside one);
    returns the job id. A name no worker would know is refused here, not discovered by a worker."""
    if name not in app.tasks:
        app.perform_import_paths()  # the platform's own job modules (PROCRASTINATE_IMPORT_PATHS)
        if name not in app.tasks:
            raise LookupError(f"no job is named {name!r}")
    return app.tasks[name].defer(**kwargs)
