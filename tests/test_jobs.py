"""The job engine with real worker processes (`manage.py worker`, the Procfile's
`worker`) on the test database: what the outbox promises, retries, a killed worker, the schedule.

The jobs are the app's own mail job, sent through Django's file backend (the mail is the proof
the job ran) or through a local SMTP port that refuses or never answers (a dead or a hung mail
server).
"""

from __future__ import annotations

import contextlib
import signal
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import transaction
from django.utils import timezone
from procrastinate.contrib.django import app
from procrastinate.contrib.django.models import ProcrastinateJob

from library.models import Play, PopularSong
from musicapp.dev.faults import PostgresProxy
from musicapp.platform.jobs import enqueue
from tests.factories import SongFactory, UserFactory
from tests.support.servers import free_port, job_worker, silent_server

pytestmark = pytest.mark.django_db(transaction=True)

FAST = {"JOBS_HEARTBEAT_S": "0.5", "JOBS_STALLED_AFTER_S": "2", "CRON_RETRY_STALLED_JOBS": "* * * * * *"}


def file_mail(folder: Path) -> dict:
    return {"EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend", "EMAIL_FILE_PATH": str(folder)}


def smtp_at(port: int) -> dict:
    return {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(port),
        "EMAIL_USE_TLS": "false",
    }


def mail_job(to: str = "someone@example.com") -> int:
    return enqueue(
        "mail.send_templated",
        to=to,
        subject="You already have an account",
        template="accounts/email/already_registered",
        context={"name": "Someone"},
    )


def wait_for(condition, timeout: float = 30, what: str = "the condition"):
    deadline = time.monotonic() + timeout
    while not (result := condition()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)
    return result


def mails(folder: Path) -> list[str]:
    """The mails written whole (Django's file backend ends each with a line of dashes; a file
    without it is still being written)."""
    texts = [path.read_text() for path in folder.glob("*.log")] if folder.exists() else []
    return [text for text in texts if text.endswith("-" * 79 + "\n")]


def test_a_job_queued_in_a_rolled_back_transaction_never_runs(tmp_path):
    with contextlib.suppress(RuntimeError), transaction.atomic():
        mail_job("rolled-back@example.com")
        raise RuntimeError("the write failed")
    mail_job("committed@example.com")
    with job_worker(file_mail(tmp_path)):
        wait_for(lambda: mails(tmp_path), what="the committed job's mail")
        time.sleep(1)  # time enough for a second job, had there been one
    (mail,) = mails(tmp_path)
    assert "committed@example.com" in mail
    # Done jobs leave the table. (The worker may have deferred a periodic job of its schedule
    # meanwhile, e.g. the presence sweep every 20 s: only the mail jobs are this test's.)
    assert not ProcrastinateJob.objects.filter(task_name="mail.send_templated").exists()


def test_a_failing_job_is_retried_with_backoff(tmp_path):
    job_id = mail_job()
    with job_worker(smtp_at(free_port())):  # nothing listens there: every attempt fails
        job = wait_for(
            lambda: ProcrastinateJob.objects.filter(pk=job_id, attempts__gte=1, status="todo").first(),
            what="a failed attempt",
        )
    assert job.scheduled_at > timezone.now() - timedelta(seconds=1)  # waits before the next try
    with job_worker(file_mail(tmp_path)):  # the mail server is back
        wait_for(lambda: mails(tmp_path), timeout=40, what="the retried mail")
    assert not ProcrastinateJob.objects.filter(pk=job_id).exists()


def test_a_worker_killed_mid_job_leaves_the_job_to_be_retried(tmp_path):
    job_id = mail_job()
    # The job hangs on a mail server that accepts and never says a word.
    with silent_server() as port, job_worker({**FAST, **smtp_at(port)}) as worker:
        wait_for(lambda: ProcrastinateJob.objects.filter(pk=job_id, status="doing").exists(), what="the job to start")
        worker.send_signal(signal.SIGKILL)  # no goodbye: its heartbeat just stops
        worker.wait(10)
    assert ProcrastinateJob.objects.get(pk=job_id).status == "doing"
    with job_worker({**FAST, **file_mail(tmp_path)}):
        wait_for(lambda: mails(tmp_path), timeout=40, what="the mail of the killed worker's job")
    assert "someone@example.com" in mails(tmp_path)[0]


def test_a_worker_outlives_a_postgresql_restart(tmp_path):
    """What a PostgreSQL restart does to a worker, acted out by a proxy: every connection cut, new
    ones refused for 3 s. procrastinate's own command exits then (code 0: its listener could not
    reconnect); `manage.py worker` starts the worker again once the database is back."""
    from django.db import connection

    proxy = PostgresProxy(connection.settings_dict)
    try:
        with job_worker({**FAST, **file_mail(tmp_path), "DATABASE_URL": proxy.url()}) as worker:
            time.sleep(2)  # started, listening
            proxy.restart(3)
            time.sleep(6)
            assert worker.poll() is None, f"the worker exited with {worker.returncode}"
            mail_job("after-the-restart@example.com")
            wait_for(lambda: mails(tmp_path), timeout=40, what="the mail queued after the restart")
    finally:
        proxy.close()
    assert "after-the-restart@example.com" in mails(tmp_path)[0]


def test_the_schedule_is_registered():
    app.perform_import_paths()
    schedule = {task.task.name: task.cron for task in app.periodic_registry.periodic_tasks.values()}
    assert schedule == {
        "library.refresh_popular": "7 * * * *",
        "library.compute_recommendations": "30 3 * * *",
        "accounts.cleanup": "15 4 * * *",
        "media.delete_orphans": "45 4 * * *",
        "playlists.cleanup_invitations": "50 4 * * *",
        "sessions.expire": "* * * * *",
        "sessions.sweep_presence": "*/20 * * * * *",
        "search.sync_net": "*/5 * * * *",
        "search.vocabulary": "17 * * * *",
        "jobs.retry_stalled": "* * * * *",
        "jobs.prune_old": "0 5 * * *",
    }


def test_a_worker_runs_the_schedule():
    song, listener = SongFactory(), UserFactory()
    Play.objects.create(user=listener, song=song, play_duration=100)
    assert not PopularSong.objects.exists()  # nobody refreshed the view yet
    with job_worker({"CRON_REFRESH_POPULAR": "* * * * * *"}):
        wait_for(lambda: PopularSong.objects.filter(song=song).exists(), what="the hourly refresh")
