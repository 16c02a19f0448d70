"""The search backend: Meilisearch when MEILI_URL is set, else PostgreSQL full-text + trigram.

Each backend answers ping() for /health: a real round trip to the thing that searches.
"""

import math
from functools import lru_cache

import meilisearch
from django.conf import settings
from django.db import connection

REQUIRED_PG_EXTENSIONS = ("pg_trgm", "unaccent")


class PostgresSearchBackend:
    name = "postgres"

    def ping(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT extname FROM pg_extension WHERE extname = ANY(%s)", [list(REQUIRED_PG_EXTENSIONS)])
            found = {row[0] for row in cursor.fetchall()}
        missing = set(REQUIRED_PG_EXTENSIONS) - found
        if missing:
            raise RuntimeError(f"PostgreSQL extensions missing: {', '.join(sorted(missing))}")


class MeiliSearchBackend:
    name = "meilisearch"

    def __init__(self, url: str, key: str, timeout: float):
        self.client = meilisearch.Client(url, key or None, timeout=max(1, math.ceil(timeout)))

    def ping(self) -> None:
        status = self.client.health().get("status")
        if status != "available":
            raise RuntimeError(f"Meilisearch status is {status!r}")


@lru_cache(maxsize=4)
def _backend(url: str, key: str, timeout: float):
    return MeiliSearchBackend(url, key, timeout) if url else PostgresSearchBackend()


def get_backend():
    """The configured backend (one client per process and configuration)."""
    return _backend(settings.MEILI_URL, settings.MEILI_MASTER_KEY, settings.HEALTH_CHECK_TIMEOUT_S)


def check_search() -> None:
    """/health: a real round trip to whichever engine answers searches."""
    try:
        get_backend().ping()
    finally:
        connection.close()  # health checks run on their own threads
