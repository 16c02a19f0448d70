"""Another process of the app, for what only a second process shows (a change announced by one
process and read by another)."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import time
from collections.abc import Callable, Iterator

from tests.support.servers import process_env, stop

# Runs each line it is sent as Python, with Django set up, and answers "ok" or the error.
REPL = """
import sys, django
django.setup()
namespace = {}
for line in sys.stdin:
    try:
        exec(line, namespace)
    except Exception as error:
        print("error", repr(error).replace("\\n", " "), flush=True)
    else:
        print("ok", flush=True)
"""


@contextlib.contextmanager
def another_process() -> Iterator[Callable[[str], None]]:
    """A second Python process on this test's database and Redis; yields run(statement), which
    returns once that process has run it (autocommit there: on-commit work runs at once). Data
    it reads must be committed (django_db(transaction=True))."""
    from django.conf import settings

    proc = subprocess.Popen(
        [sys.executable, "-u", "-c", REPL],
        cwd=settings.BASE_DIR,
        env=process_env(DJANGO_SETTINGS_MODULE="musicapp.settings"),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdin is not None and proc.stdout is not None

    def run(statement: str) -> None:
        assert "\n" not in statement
        proc.stdin.write(statement + "\n")  # type: ignore[union-attr]
        proc.stdin.flush()  # type: ignore[union-attr]
        answer = proc.stdout.readline().strip()  # type: ignore[union-attr]
        assert answer == "ok", f"the other process: {answer or 'no answer'}"

    try:
        yield run
    finally:
        proc.stdin.close()
        stop(proc)


def wait_until_current(timeout: float = 10) -> None:
    """Until this process hears every other's announcements: its mirror's listener subscribed
    and its pings answered (musicapp.platform.mirror), so its copies are read, not Redis."""
    from musicapp.platform.mirror import mirror

    deadline = time.monotonic() + timeout
    while not (mirror.current() and mirror.listening):
        assert time.monotonic() < deadline, "the mirror's listener never became current"
        time.sleep(0.01)
