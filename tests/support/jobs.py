"""Running queued jobs inside a test.

Jobs are real rows of procrastinate_jobs, queued by the code under test in the test's own
transaction. run_pending_jobs() runs them in this process, in queue order, through the same
task functions a worker calls, and removes them as a worker does (delete_jobs="successful"),
so tests that do not commit (the default) still see what a job does. What only a real worker
process shows (a rollback enqueues nothing, a killed worker's job is retried, the schedule)
is tested with one, in tests/test_jobs.py.
"""

from __future__ import annotations

from django.db import connection
from procrastinate.contrib.django import app
from procrastinate.contrib.django.models import ProcrastinateJob


def pending_jobs() -> list[tuple[str, dict]]:
    return list(ProcrastinateJob.objects.filter(status="todo").order_by("id").values_list("task_name", "args"))


def run_pending_jobs(rounds: int = 5) -> list[str]:
    """Run what is queued, then what those jobs queued, and so on; returns the task names run."""
    app.perform_import_paths()
    ran: list[str] = []
    for _ in range(rounds):
        queued = list(
            ProcrastinateJob.objects.filter(status="todo").order_by("id").values_list("id", "task_name", "args")
        )
        if not queued:
            return ran
        for job_id, task_name, args in queued:
            app.tasks[task_name](**args)
            with connection.cursor() as cursor:
                cursor.execute("DELETE FROM procrastinate_jobs WHERE id = %s", [job_id])
            ran.append(task_name)
    raise AssertionError(f"jobs kept queuing jobs after {rounds} rounds: {ran}")
