"""Where a hot endpoint's time goes: py-spy on a production-layout worker under wrk load.

Run (needs Debian's `wrk`; py-spy is in requirements-dev):
    .venv/bin/python -m musicapp.dev.devservices -- .venv/bin/python bench/profile.py --seconds 10

Starts one granian WSGI worker as the Procfile's `web` does, makes one listener with liked
songs and albums (throwaway rows), and for each hot path runs wrk (32 connections) while
py-spy samples the worker (100 Hz, only the thread holding the GIL: where the worker's Python
CPU goes, not threads waiting on a socket or a lock). Prints, per path, the requests/s under
the profiler, the share of samples inside each of the frames that matter (inclusive), and the
hottest functions by self time, as Markdown for docs/PROFILES.md. Raw stacks (py-spy's
collapsed format, for a flame graph) are kept in bench/results/profile-*.txt.

Before each profile, a run without the profiler (--reps of them, medians) measures what one
request costs the worker: its CPU time (all threads, user and system: a Redis round trip's
system calls and thread switches count here, and hardly at all in the GIL's samples), and the
Redis commands and PostgreSQL transactions per request. That table ends the output.
--costs-only skips the profiles; MUSICAPP_ROOT runs another checkout's code with this script
(to compare two commits, alternated).
"""

from __future__ import annotations

import argparse
import collections
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import psutil

ROOT = Path(os.environ.get("MUSICAPP_ROOT", Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "musicapp.settings")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django_redis import get_redis_connection  # type: ignore[import-untyped]  # noqa: E402
from rest_framework_simplejwt.tokens import AccessToken  # noqa: E402

from accounts.models import User  # noqa: E402
from bench.servers import BIN, wait_ready, wrk  # noqa: E402
from library.models import Album, LikedAlbum, LikedSong, Song  # noqa: E402
from musicapp.dev.devservices import free_port  # noqa: E402

PATHS = {
    "trivial (JSON 404, the baseline)": "/api/does-not-exist",
    "song list (anonymous, cached)": "/api/song/list?limit=20",
    "album (anonymous, cached)": None,  # filled in with a real album id
    "public playlists (anonymous, cached)": "/api/playlist/public",
    "/api/user/me": "/api/user/me",
    "/api/library": "/api/library",
    "/api/recently-played": "/api/recently-played",
    "/api/recommendations": "/api/recommendations",
    "/api/playlist/list": "/api/playlist/list",
}
ANONYMOUS = ("trivial", "song list", "album", "public playlists")
# Frames worth naming: (label, what a frame's text contains). A sample counts once per label.
FRAMES = [
    ("DRF's view dispatch (auth, throttles, the view, rendering)", "APIView.dispatch (rest_framework/views.py"),
    ("token check (accounts.authentication)", "(accounts/authentication.py"),
    ("JWT decoding (PyJWT)", "(jwt/"),
    ("rate limit (musicapp.platform.ratelimit)", "(musicapp/platform/ratelimit.py"),
    ("mirrored values (musicapp.platform.mirror)", "(musicapp/platform/mirror.py"),
    ("versioned caches (musicapp.platform.scoped_cache)", "(musicapp/platform/scoped_cache.py"),
    ("Redis client, all calls", "(redis/"),
    ("gzip", "GZipOver1KBMiddleware.process_response"),
    ("camelCase JSON rendering", "(djangorestframework_camel_case/"),
    ("database (psycopg)", "(psycopg/"),
    ("django-prometheus", "(django_prometheus/"),
    ("logging", "(logging/"),
    ("granian's WSGI glue", "(granian/"),
]


RESULTS = ROOT / "bench" / "results"


def slug(label: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in label.split(" (")[0].strip("/")).strip("-")


def listener() -> tuple[User, str]:
    user = User.objects.create(email=f"bench-profile-{int(time.time())}@example.com", is_email_verified=True)
    for song in Song.objects.order_by("pk")[:30]:
        LikedSong.objects.create(user=user, song=song)
    for album in Album.objects.order_by("pk")[:5]:
        LikedAlbum.objects.create(user=user, album=album)
    return user, str(AccessToken.for_user(user))


def shares(raw: str) -> tuple[int, list[tuple[str, float]], list[tuple[str, float]]]:
    """Samples, the share inside each of FRAMES (inclusive), and the top functions by self time."""
    inside: collections.Counter[str] = collections.Counter()
    leaves: collections.Counter[str] = collections.Counter()
    total = 0
    for line in raw.splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        total += int(count)
        leaves[stack.rsplit(";", 1)[-1]] += int(count)
        for label, needle in FRAMES:
            if needle in stack:
                inside[label] += int(count)
    if not total:
        return 0, [], []
    return (
        total,
        [(label, 100 * n / total) for label, n in inside.most_common()],
        [(frame, 100 * n / total) for frame, n in leaves.most_common(8)],
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--costs-only", action="store_true", help="the cost table alone, no profiles")
    parser.add_argument("--reps", type=int, default=1, help="cost runs per path (medians)")
    args = parser.parse_args()
    RESULTS.mkdir(exist_ok=True)
    user, token = listener()
    PATHS["album (anonymous, cached)"] = f"/api/album/{Album.objects.order_by('pk').first().pk}"  # type: ignore[union-attr]
    port = free_port()
    # Rate limits on, as in production, with a limit no run reaches (their cost is profiled).
    env = {**os.environ, "RATELIMIT_ENABLE": "true", "API_RATE": "100000000/1m", "LOG_LEVEL": "ERROR"}
    server = subprocess.Popen(
        [
            f"{BIN}/granian",
            *("--interface", "wsgi", "--workers", "1", "--blocking-threads", "8", "--log-level", "error"),
            *("--host", "127.0.0.1", "--port", str(port), "musicapp.wsgi:application"),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
    )
    costs = []
    try:
        wait_ready(port)
        worker = psutil.Process(server.pid).children(recursive=True)[0].pid
        for label, path in PATHS.items():
            url = f"http://127.0.0.1:{port}{path}"
            headers = [] if label.startswith(ANONYMOUS) else ["-H", f"Authorization: Bearer {token}"]
            wrk(url, 2, args.connections, headers)  # warm-up
            runs = [
                cost(psutil.Process(worker), url, args.seconds, args.connections, headers) for _ in range(args.reps)
            ]
            costs.append((label, *(statistics.median(column) for column in zip(*runs, strict=True))))
            if args.costs_only:
                continue
            raw = RESULTS / f"profile-{slug(label)}.txt"
            spy = subprocess.Popen(
                [
                    f"{BIN}/py-spy",
                    *("record", "--pid", str(worker), "--format", "raw", "--rate", "100", "--gil"),
                    *("--duration", str(args.seconds), "--output", str(raw), "--nonblocking"),
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            rps, p99 = wrk(url, args.seconds, args.connections, headers)
            spy.wait(args.seconds + 30)
            total, rows, leaves = shares(raw.read_text())
            print(f"\n### {label}: `{path}`\n\n{rps:,.0f} requests/s under the profiler, p99 {p99}, {total} samples\n")
            print("| inside | share of samples |\n|---|---:|")
            for name, share in rows:
                print(f"| {name} | {share:.0f}% |")
            print("\n| hottest functions (self time) | share |\n|---|---:|")
            for frame, share in leaves:
                print(f"| `{frame}` | {share:.0f}% |")
    finally:
        server.terminate()
        server.wait(30)
        user.delete()
    print("\n### What each request costs the worker (wrk alone, no profiler)\n")
    print("| path | requests/s | worker CPU per request | Redis commands per request | transactions per request |")
    print("|---|---:|---:|---:|---:|")
    for label, rps, cpu_us, redis_calls, transactions in costs:
        print(f"| {label} | {rps:,.0f} | {cpu_us:,.0f} µs | {redis_calls:.2f} | {transactions:.2f} |")


def cost(worker: psutil.Process, url: str, seconds: int, connections: int, headers: list[str]) -> tuple:
    """Requests/s, and per request: the worker's CPU (user + system, all its threads), the
    commands Redis ran and the transactions PostgreSQL committed (for everyone: nothing else
    runs meanwhile)."""
    redis = get_redis_connection("default")

    def totals() -> tuple[float, int, int]:
        with connection.cursor() as cursor:
            cursor.execute("SELECT sum(xact_commit) FROM pg_stat_database")
            (transactions,) = cursor.fetchone()
        times = worker.cpu_times()
        return times.user + times.system, redis.info("stats")["total_commands_processed"], int(transactions)

    before = totals()
    out = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", *headers, url], capture_output=True, text=True, check=True
    ).stdout
    after = totals()
    requests = int(out.split(" requests in ", 1)[0].rsplit(None, 1)[-1])
    # Less the statements that read the counters: one transaction, and the first INFO (Redis
    # counts a command after running it).
    return (
        requests / seconds,
        (after[0] - before[0]) / requests * 1e6,
        (after[1] - before[1] - 1) / requests,
        (after[2] - before[2] - 1) / requests,
    )


if __name__ == "__main__":
    main()
