"""The embedded default (musicapp.dev.devservices): real PostgreSQL and Redis under a data folder,
shared by concurrent commands, and stopped when the last one ends, also on SIGTERM and Ctrl-C."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
from django.conf import settings

pytestmark = pytest.mark.timeout(180)

# The command run under the services: proves both answer, then reports where they are.
PROBE = """
import json, os, sys, time
from pathlib import Path
import psycopg, redis
data = Path(sys.argv[1])
with psycopg.connect(os.environ["DATABASE_URL"].replace("postgres://", "postgresql://", 1)) as conn:
    conn.execute("CREATE TABLE IF NOT EXISTS kept (v text)")
    if len(sys.argv) > 2:
        conn.execute("INSERT INTO kept VALUES (%s)", [sys.argv[2]])
    rows = [r[0] for r in conn.execute("SELECT v FROM kept ORDER BY v")]
assert redis.Redis.from_url(os.environ["REDIS_URL"]).ping()
state = json.loads((data / "services.json").read_text())
print(json.dumps({"rows": rows, "postmaster": int((data / "pg" / "postmaster.pid").read_text().split()[0]),
                  "redis": state["redis"]["pid"], "secret": bool(os.environ.get("SECRET_KEY"))}), flush=True)
if os.environ.get("PROBE_SLEEP"):
    time.sleep(float(os.environ["PROBE_SLEEP"]))
"""


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("devdata")


def clean_env(**extra) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "SECRET_KEY"}}
    return {**env, **extra}


def supervisor(data_dir: Path, *args: str, exclusive: str | None = None) -> list[str]:
    cmd = [sys.executable, "-m", "musicapp.dev.devservices", "--data-dir", str(data_dir)]
    if exclusive:
        cmd += ["--exclusive", exclusive]
    return [*cmd, "--", sys.executable, "-c", PROBE, str(data_dir), *args]


def _as_in_a_terminal() -> None:
    # A shell that starts a job in the background (as a CI runner may) leaves SIGINT ignored, and
    # an ignored signal stays ignored across exec; in a terminal, Ctrl-C has its default action.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def start(data_dir: Path, *args: str, sleep: float = 60, exclusive: str | None = None) -> tuple[subprocess.Popen, dict]:
    proc = subprocess.Popen(
        supervisor(data_dir, *args, exclusive=exclusive),
        cwd=settings.BASE_DIR,
        env=clean_env(PROBE_SLEEP=str(sleep)),
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
        preexec_fn=_as_in_a_terminal,  # safe here: the test starts no threads before this fork
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line, "the probe printed nothing"
    return proc, json.loads(line)


def run(data_dir: Path, *args: str) -> dict:
    result = subprocess.run(
        supervisor(data_dir, *args), cwd=settings.BASE_DIR, env=clean_env(), capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def assert_stopped(info: dict) -> None:
    deadline = time.monotonic() + 15
    while any(
        psutil.pid_exists(pid) and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
        for pid in (info["postmaster"], info["redis"])
    ):
        assert time.monotonic() < deadline, f"left running: {info}"
        time.sleep(0.1)


def assert_running(info: dict) -> None:
    assert psutil.pid_exists(info["postmaster"]) and psutil.pid_exists(info["redis"])


def test_command_gets_both_services_and_nothing_is_left_behind(data_dir):
    info = run(data_dir, "first")
    assert info["rows"] == ["first"]
    assert info["secret"] is True
    assert_stopped(info)
    assert json.loads((data_dir / "services.json").read_text())["clients"] == []


def test_own_servers_are_used_as_they_are_and_the_command_still_gets_a_local_secret_key(tmp_path):
    probe = """import os; print(os.environ["SECRET_KEY"] == open(os.path.join(os.environ["D"], "secret_key")).read())"""
    env = clean_env(DATABASE_URL="postgres://me@127.0.0.1:1/mine", REDIS_URL="redis://127.0.0.1:1/0", D=str(tmp_path))
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "musicapp.dev.devservices",
            "--data-dir",
            str(tmp_path),
            "--",
            sys.executable,
            "-c",
            probe,
        ],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "True"
    assert not (tmp_path / "services.json").exists()  # nothing was started for it


def test_data_is_kept_across_runs(data_dir):
    run(data_dir, "a")
    info = run(data_dir, "b")
    assert {"a", "b"} <= set(info["rows"])
    assert_stopped(info)


def test_exit_code_of_the_command_is_passed_on(data_dir):
    cmd = [sys.executable, "-m", "musicapp.dev.devservices", "--data-dir", str(data_dir), "--", "sh", "-c", "exit 3"]
    assert subprocess.run(cmd, cwd=settings.BASE_DIR, env=clean_env(), timeout=120).returncode == 3


def test_sigterm_stops_the_command_and_the_services(data_dir):
    proc, info = start(data_dir)
    assert_running(info)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(60) == 128 + signal.SIGTERM
    assert_stopped(info)


def test_ctrl_c_stops_the_command_and_the_services(data_dir):
    proc, info = start(data_dir)
    os.killpg(proc.pid, signal.SIGINT)  # what a terminal does: the whole foreground group
    proc.wait(60)
    assert_stopped(info)


def test_concurrent_commands_share_services_and_the_last_one_stops_them(data_dir):
    long_running, info = start(data_dir)
    short = run(data_dir)
    assert (short["postmaster"], short["redis"]) == (info["postmaster"], info["redis"])
    assert_running(info)  # the short command left; the long one still uses them
    long_running.send_signal(signal.SIGTERM)
    long_running.wait(60)
    assert_stopped(info)


def test_second_exclusive_run_gets_a_clear_message(data_dir):
    first, info = start(data_dir, exclusive="run")
    try:
        second = subprocess.run(
            supervisor(data_dir, exclusive="run"),
            cwd=settings.BASE_DIR,
            env=clean_env(),
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert second.returncode == 75
        assert "already running" in second.stderr
        assert_running(info)
    finally:
        first.send_signal(signal.SIGTERM)
        first.wait(60)
    assert_stopped(info)


def test_a_killed_client_is_pruned_and_its_servers_adopted(data_dir):
    crashed, info = start(data_dir)
    os.killpg(crashed.pid, signal.SIGKILL)  # no chance to clean up
    crashed.wait(10)
    assert_running(info)
    adopted = run(data_dir)
    assert (adopted["postmaster"], adopted["redis"]) == (info["postmaster"], info["redis"])
    assert_stopped(info)
