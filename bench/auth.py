"""Login latency, enumeration timing, and logins from concurrent clients (P95, memory).

Run:
    .venv/bin/python -m musicapp.dev.devservices -- .venv/bin/python bench/auth.py [--rounds 60]

Creates a throwaway verified user in the database, serves the app with granian (WSGI, one
worker, rate limits off), then measures sequential request latencies for each case, and the
worker's peak memory while --concurrency clients log in over and over (issue 14: P95 <= 100 ms
at 10). Prints Markdown for docs/PERFORMANCE.md.
"""

import argparse
import itertools
import json
import os
import secrets
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "musicapp.settings")

import django  # noqa: E402

django.setup()

from accounts.models import User  # noqa: E402
from bench.servers import wait_ready  # noqa: E402
from musicapp.dev.devservices import free_port  # noqa: E402

PASSWORD = "bench-Turntable-2026"


def post(base: str, path: str, body: dict) -> tuple[int, float]:
    request = urllib.request.Request(
        base + path, data=json.dumps(body).encode(), method="POST", headers={"Content-Type": "application/json"}
    )
    start = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            status = response.status
            response.read()
    except urllib.error.HTTPError as error:
        status = error.code
        error.read()
    return status, (time.perf_counter() - start) * 1000


Body = dict | Callable[[], dict]


def measure_side_by_side(base: str, path: str, bodies: list[Body], rounds: int) -> list[tuple[int, float, float]]:
    """The same request with each body, interleaved round by round (A B A B ...), so that a
    drift of the machine during the run weighs on every case alike."""

    def body_of(body: Body) -> dict:
        return body() if callable(body) else body

    for body in bodies:
        post(base, path, body_of(body))  # warm-up
    results: list[list[tuple[int, float]]] = [[] for _ in bodies]
    for _ in range(rounds):
        for index, body in enumerate(bodies):
            results[index].append(post(base, path, body_of(body)))
    summary = []
    for rows in results:
        times = sorted(ms for _, ms in rows)
        summary.append((rows[0][0], statistics.median(times), times[int(len(times) * 0.95) - 1]))
    return summary


def peak_rss_during(proc: psutil.Process, action) -> float:
    peak, done = 0, threading.Event()

    def sample():
        nonlocal peak
        while not done.is_set():
            with_children = [proc, *proc.children(recursive=True)]
            peak = max(peak, sum(p.memory_info().rss for p in with_children if p.is_running()))
            time.sleep(0.02)

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        action()
    finally:
        done.set()
        sampler.join()
    return peak / 2**20


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=60)
    parser.add_argument("--concurrency", type=int, default=10, help="clients logging in at once")
    parser.add_argument("--seconds", type=int, default=10)
    args = parser.parse_args()
    run = secrets.token_hex(4)
    email, pending = f"bench-{run}@example.com", f"bench-{run}-pending@example.com"
    User.objects.create_user(email, PASSWORD, name="Bench", is_email_verified=True)
    User.objects.create_user(pending, PASSWORD, name="Bench Pending", is_email_verified=False)
    fresh = (f"bench-{run}-new-{n}@example.com" for n in itertools.count())
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "RATELIMIT_ENABLE": "false",
        "LOG_LEVEL": "ERROR",
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
    }
    server = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "granian"),
            "--interface",
            "wsgi",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "1",
            "--blocking-threads",
            "8",
            "--workers-kill-timeout",
            "5",
            "musicapp.wsgi:application",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_ready(port)
        nobody = "nobody@example.com"
        cases: dict[str, list[tuple[str, Body]]] = {
            "/api/auth/login": [
                ("right password", {"email": email, "password": PASSWORD}),
                ("wrong password", {"email": email, "password": "wrong-password-1"}),
                ("unknown email", {"email": nobody, "password": "whatever-1"}),
            ],
            "/api/auth/register": [
                ("new address", lambda: {"email": next(fresh), "password": PASSWORD, "name": "New"}),
                ("address with an account", {"email": email, "password": PASSWORD, "name": "Impostor"}),
            ],
            "/api/auth/resend-otp": [("unverified account", {"email": pending}), ("unknown email", {"email": nobody})],
            "/api/auth/forgot-password": [("known email", {"email": email}), ("unknown email", {"email": nobody})],
        }
        print(f"| request ({args.rounds} rounds, cases interleaved) | status | median | p95 |")
        print("|---|---:|---:|---:|")
        for path, variants in cases.items():
            summary = measure_side_by_side(base, path, [body for _, body in variants], args.rounds)
            for (label, _), (status, median, p95) in zip(variants, summary, strict=True):
                print(f"| {path.rsplit('/', 1)[-1]}, {label} | {status} | {median:.1f} ms | {p95:.1f} ms |")

        idle = psutil.Process(server.pid)
        idle_rss = sum(p.memory_info().rss for p in [idle, *idle.children(recursive=True)]) / 2**20
        latencies: list[float] = []
        failures: list[int] = []

        def client(deadline: float) -> None:
            while time.monotonic() < deadline:
                status, ms = post(base, "/api/auth/login", {"email": email, "password": PASSWORD})
                if status == 200:
                    latencies.append(ms)
                else:
                    failures.append(status)

        def concurrent_logins() -> None:
            deadline = time.monotonic() + args.seconds
            clients = [threading.Thread(target=client, args=(deadline,)) for _ in range(args.concurrency)]
            for thread in clients:
                thread.start()
            for thread in clients:
                thread.join()

        peak = peak_rss_during(idle, concurrent_logins)
        latencies.sort()
        p95 = latencies[int(len(latencies) * 0.95) - 1]
        print(
            f"\nLogins from {args.concurrency} concurrent clients for {args.seconds} s (8 server threads, one "
            f"worker): {len(latencies) / args.seconds:.1f} logins/s, P50 {statistics.median(latencies):.0f} ms, "
            f"P95 {p95:.0f} ms ({'met' if p95 <= 100 else 'missed'}: goal <= 100 ms), {len(failures)} failed; "
            f"worker memory {idle_rss:.0f} MiB idle, {peak:.0f} MiB peak."
        )
    finally:
        server.terminate()
        server.wait(30)
        # Their queued mail jobs find no account any more and send nothing.
        User.objects.filter(email__startswith=f"bench-{run}").delete()


if __name__ == "__main__":
    main()
