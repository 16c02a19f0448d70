"""Warm authenticated reads inside one process: requests per second through the whole stack.

Run:
    .venv/bin/python -m musicapp.dev.devservices -- .venv/bin/python bench/hot_reads.py

Django's test client sends each request through every middleware, DRF, the token check and the
view, in this process (no server, no network: what is measured is the app's own cost per
request). It uses a database of its own (`<name>_bench_hot`, created and migrated on the first
run) with one listener who likes 30 songs and 5 albums, warms each path up, then times
--requests GETs of each and prints requests per second. MUSICAPP_ROOT runs another checkout of
the code with this script (to compare two commits).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

ROOT = Path(os.environ.get("MUSICAPP_ROOT", Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "musicapp.settings")
os.environ["ALLOWED_HOSTS"] = "testserver"
os.environ["API_RATE"] = "100000000/1m"
os.environ.setdefault("LOG_LEVEL", "ERROR")
PATHS = ("/api/user/me", "/api/library", "/api/recently-played", "/api/playlist/list")


def use_database(suffix: str) -> None:
    url = urlsplit(os.environ["DATABASE_URL"])
    name = f"{url.path.lstrip('/')}_{suffix}"
    with psycopg.connect(urlunsplit(url), autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
    os.environ["DATABASE_URL"] = urlunsplit(url._replace(path=f"/{name}"))


def listener():
    from accounts.models import User
    from library.models import LikedAlbum, LikedSong
    from tests.factories import AlbumFactory, SongFactory, UserFactory

    user = User.objects.filter(email="bench-hot@example.com").first()
    if user is None:
        user = UserFactory(email="bench-hot@example.com")
        for song in SongFactory.create_batch(30):
            LikedSong.objects.create(user=user, song=song)
        for album in AlbumFactory.create_batch(5):
            LikedAlbum.objects.create(user=user, album=album)
    return user


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=2000)
    args = parser.parse_args()
    use_database("bench_hot")
    import django

    django.setup()
    from django.core.management import call_command
    from django.test import Client
    from rest_framework_simplejwt.tokens import AccessToken

    call_command("migrate", verbosity=0)
    user = listener()
    client = Client(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(user)}")
    for path in PATHS:
        for _ in range(50):
            assert client.get(path).status_code == 200, path
        started = time.perf_counter()
        for _ in range(args.requests):
            client.get(path)
        elapsed = time.perf_counter() - started
        print(f"{path}: {args.requests / elapsed:,.0f} requests/s ({elapsed / args.requests * 1e6:,.0f} µs each)")


if __name__ == "__main__":
    main()
