"""Cost growth: the history-backed endpoints' latency at 10k, 100k and 1M plays (goal: flat).

Run (part of `make bench`; needs the bench data set's users and songs):
    .venv/bin/python -m musicapp.dev.devservices -- .venv/bin/python bench/growth.py [--users 200]

Brings the plays table to each size in turn (down to the smallest by deleting, then up with
seed_demo's bulk plays, VACUUM ANALYZE each time), serves the app as the Procfile's `web` does
(granian WSGI, one worker), times refresh_popular (the popular songs of 30 days of plays) and,
one request at a time, asks recently played and recommendations for --users listeners never
asked before at that size (every answer built from the database, none from the cache): listeners
of the data set, whose histories grow with the table, and as many new listeners with --history
plays each, whose histories do not (they and their plays are deleted at the end). Ends with
the table at its largest size. Prints a Markdown table and writes bench/results/growth.json.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import statistics
import subprocess
import sys
import time
import urllib.request
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "musicapp.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402
from rest_framework_simplejwt.tokens import AccessToken  # noqa: E402

from accounts.models import User  # noqa: E402
from bench.servers import BIN, wait_ready  # noqa: E402
from library.models import Play, Song  # noqa: E402
from musicapp.dev.devservices import free_port  # noqa: E402

PATHS = ("/api/recently-played", "/api/recommendations")


def resize_plays(size: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SET statement_timeout = 0")  # deleting and vacuuming a million rows
    current = Play.objects.count()
    if current > size:
        with connection.cursor() as cursor:
            cursor.execute(
                "DELETE FROM library_play WHERE id IN (SELECT id FROM library_play ORDER BY id OFFSET %s)", [size]
            )
        current = size
    if current < size:
        call_command("seed_demo", plays=size - current, stdout=io.StringIO(), stderr=io.StringIO())
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE) library_play")


def get_ms(port: int, path: str, token: str) -> float:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers={"Authorization": f"Bearer {token}"})
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=60) as response:
        response.read()
    return (time.perf_counter() - started) * 1000


def fixed_listeners(count: int, plays: int, tag: str) -> list[User]:
    """New listeners with `plays` public plays each in the last 60 days (songs drawn from the
    catalog, the same draw at every size): their history does not grow with the table."""
    rng = random.Random(5)
    songs = list(Song.objects.order_by("pk").values_list("pk", flat=True)[:: max(1, Song.objects.count() // 5000)])
    users = User.objects.bulk_create(
        [User(email=f"bench-growth-{tag}-{n}@example.com", name="Growth", is_email_verified=True) for n in range(count)]
    )
    now = timezone.now()
    Play.objects.bulk_create(
        [
            Play(
                user=user,
                song_id=rng.choice(songs),
                play_duration=60.0,
                played_at=now - timedelta(minutes=rng.randint(1, 86400)),
            )
            for user in users
            for _ in range(plays)
        ],
        batch_size=5000,
    )
    return users


def timed(port: int, users: list[User]) -> dict[str, dict[str, float]]:
    """Each path once per user (every answer built from the database): P50 and P95."""
    found = {}
    for path in PATHS:
        times = sorted(get_ms(port, path, str(AccessToken.for_user(user))) for user in users)
        found[path] = {"p50": statistics.median(times), "p95": times[int(len(times) * 0.95) - 1]}
    return found


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--users", type=int, default=200, help="listeners asked at each size, each once per path")
    parser.add_argument("--history", type=int, default=50, help="plays of each fixed-history listener")
    args = parser.parse_args()
    listeners = list(User.objects.filter(is_active=True, is_email_verified=True).order_by("?"))
    sizes = [int(size) for size in args.sizes.split(",")]
    if len(listeners) < args.users * len(sizes):
        raise SystemExit("needs more users: make bench builds the data set (seed_demo --users)")
    port = free_port()
    env = {**os.environ, "RATELIMIT_ENABLE": "false", "LOG_LEVEL": "ERROR"}
    command = ["--interface", "wsgi", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"]
    server = subprocess.Popen(
        [str(BIN / "granian"), *command, "--blocking-threads", "8", "musicapp.wsgi:application"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
    )
    rows = []
    made: list[User] = []
    try:
        wait_ready(port)
        for index, size in enumerate(sizes):
            resize_plays(size)
            started = time.perf_counter()
            call_command("refresh_popular", stdout=io.StringIO())
            refresh_s = time.perf_counter() - started
            fixed = fixed_listeners(args.users, args.history, f"{size}-{int(time.time())}")
            made += fixed
            group = listeners[index * args.users : (index + 1) * args.users]  # never asked before: misses
            rows.append(
                {
                    "plays": Play.objects.count(),
                    "data_set": timed(port, group),
                    "fixed_history": timed(port, fixed),
                    "refresh_popular_s": refresh_s,
                }
            )
    finally:
        server.terminate()
        server.wait(30)
        User.objects.filter(pk__in=[user.pk for user in made]).delete()  # and their plays
    print(f"\n### Cost growth (each answer built from the database, {args.users} listeners per size)\n")
    print(
        "Listeners of the data set have a history that grows with the table (about 1, 10 and 100 plays "
        f"each); the fixed-history listeners have {args.history} plays each at every size.\n"
    )
    print(
        "| plays | recently played P50 / P95 | recommendations P50 / P95 "
        f"| {args.history}-play listeners: recently played | recommendations | refresh_popular |"
    )
    print("|---:|---:|---:|---:|---:|---:|")
    for row in rows:
        cells = [
            f"{row[group][path]['p50']:.1f} / {row[group][path]['p95']:.1f} ms"  # type: ignore[index]
            for group in ("data_set", "fixed_history")
            for path in PATHS
        ]
        print(f"| {row['plays']:,} | {' | '.join(cells)} | {row['refresh_popular_s']:.2f} s |")
    (ROOT / "bench" / "results").mkdir(exist_ok=True)
    (ROOT / "bench" / "results" / "growth.json").write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
