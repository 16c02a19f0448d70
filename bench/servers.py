"""Which server for which protocol: Django over WSGI vs ASGI under granian, one worker each.

Run (needs Debian's `wrk`):
    .venv/bin/python -m musicapp.dev.devservices -- .venv/bin/python bench/servers.py [--seconds 10]

Starts each server on a loopback port, warms it up, runs wrk against a trivial request (a JSON
404 through the whole middleware stack, no database) and against /health (three real checks),
and prints a Markdown table for docs/PERFORMANCE.md.
"""

import argparse
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from musicapp.dev.devservices import free_port  # noqa: E402

BIN = Path(sys.executable).parent
GRANIAN = f"{BIN}/granian --workers 1 --log-level error --workers-kill-timeout 5"
UVICORN = f"{BIN}/uvicorn --workers 1 --log-level error --lifespan off"
SERVERS = {  # each gets --host and --port appended
    "granian WSGI (Procfile web)": f"{GRANIAN} --interface wsgi --blocking-threads 8 musicapp.wsgi:application",
    "uvicorn, Django's ASGI handler (make run before)": f"{UVICORN} bench.django_asgi:application",
    "uvicorn, wsgi_bridge (make run now)": f"{UVICORN} musicapp.asgi:application",
    "granian ASGI, wsgi_bridge": f"{GRANIAN} --interface asginl --loop uvloop musicapp.asgi:application",
}
PATHS = {
    "trivial (JSON 404)": "/api/does-not-exist",
    "/health": "/health",
    "song list (cached)": "/api/song/list?limit=20",
}


# For benchmarks that connect thousands of sockets within seconds (fanout.py, sessions.py): each
# one may wait its turn instead of being told to come back (1013, the bound on connects per
# process, musicapp.platform.websocket.Admission), which is not what they measure.
ALL_MAY_WAIT = {"WS_CONNECT_QUEUE": "100000", "WS_CONNECT_WAIT_S": "600"}


def wait_ready(port: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("server did not start")


def wrk(url: str, seconds: int, connections: int, headers: list[str] | tuple[str, ...] = ()) -> tuple[float, str]:
    rps, p99, _failed = wrk_run(url, seconds, connections, headers)
    return rps, p99


def wrk_run(
    url: str, seconds: int, connections: int, headers: list[str] | tuple[str, ...] = ()
) -> tuple[float, str, int]:
    """Requests/s, the p99, and how many answers were not 2xx/3xx or failed at the socket."""
    out = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", *headers, url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rps = float(re.findall(r"Requests/sec:\s+([\d.]+)", out)[0])
    p99 = re.findall(r"^\s+99%\s+(\S+)", out, re.MULTILINE)[0]
    failed = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses:\s+(\d+)", out))
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if socket_errors:
        failed += sum(int(n) for n in socket_errors.groups())
    return rps, p99, failed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--only", help="run only the servers whose name contains this")
    args = parser.parse_args()
    env = {**os.environ, "RATELIMIT_ENABLE": "false", "LOG_LEVEL": "ERROR", "DB_POOL_MAX_SIZE": "20"}
    rows = []
    for name, cmd in SERVERS.items():
        if args.only and args.only not in name:
            continue
        port = free_port()
        proc = subprocess.Popen(
            [*cmd.split(), "--host", "127.0.0.1", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_ready(port)
            for label, path in PATHS.items():
                url = f"http://127.0.0.1:{port}{path}"
                wrk(url, 2, args.connections)  # warm-up: pools, imports, caches
                rps, p99 = wrk(url, args.seconds, args.connections)
                rows.append((name, label, rps, p99))
        finally:
            proc.terminate()
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    print(
        f"| server (1 worker) | request | requests/s | p99 latency |  ({args.connections} connections, {args.seconds}s)"
    )
    print("|---|---|---:|---:|")
    for name, label, rps, p99 in rows:
        print(f"| {name} | {label} | {rps:,.0f} | {p99} |")


if __name__ == "__main__":
    main()
