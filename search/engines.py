"""The two search engines behind one interface: `search(text, kinds, limit)` -> ids per kind,
best first, and `ping()` for /health.

PostgreSQL (always there): full-text over the unaccented words of each document (the last word
a prefix, as the user types), OR trigram similarity for typos, over GIN indexes; exact and
prefix matches of the name first, then every word in the name, then every word in the name or
its context (artist, album), then the closest, popularity breaking ties.

Meilisearch (when MEILI_URL is set), through its official client: one index per kind, typo
tolerance and prefix search as Meilisearch does them, popularity as a ranking rule.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

import meilisearch
from django.conf import settings
from django.db import connection, transaction

KINDS = ("song", "album", "artist", "playlist")
WORD = re.compile(r"\w+")
# Closeness that still counts as the same word with a typo ("beatels" in "the beatles" is 0.5).
WORD_SIMILARITY = 0.45
NAME_SIMILARITY = 0.3

SEARCH_SQL = """
WITH q AS (
    SELECT lower(public.unaccent(%(text)s)) AS text, to_tsquery('simple', public.unaccent(%(tsq)s)) AS tsq
), matches AS (
    SELECT d.kind, d.object_id, d.popularity,
           d.name_norm = q.text AS exact,
           left(d.name_norm, length(q.text)) = q.text AS prefix,
           to_tsvector('simple', d.name_norm) @@ q.tsq AS name_words,
           d.tsv @@ q.tsq AS words,
           greatest(similarity(d.name_norm, q.text), word_similarity(q.text, d.text_norm)) AS closeness
    FROM search_searchdocument d, q
    WHERE d.kind = ANY(%(kinds)s) AND (d.tsv @@ q.tsq OR q.text <%% d.text_norm OR d.name_norm %% q.text)
)
SELECT kind, object_id FROM (
    SELECT kind, object_id, row_number() OVER (
        PARTITION BY kind
        ORDER BY exact DESC, prefix DESC, name_words DESC, words DESC, closeness DESC, popularity DESC, object_id
    ) AS rank
    FROM matches
) ranked
WHERE rank <= %(limit)s
ORDER BY kind, rank
"""


def tsquery(text: str) -> str:
    """Every word, the last one a prefix ("beatl" finds "beatles" as it is typed)."""
    words = [word.lower() for word in WORD.findall(text)]
    if not words:
        return ""
    return " & ".join([*(f"'{word}'" for word in words[:-1]), f"'{words[-1]}':*"])


class PostgresEngine:
    name = "postgres"

    def search(self, text: str, kinds: list[str], limit: int) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {kind: [] for kind in kinds}
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "SELECT set_config('pg_trgm.word_similarity_threshold', %s, true),"
                " set_config('pg_trgm.similarity_threshold', %s, true)",
                [str(WORD_SIMILARITY), str(NAME_SIMILARITY)],
            )
            cursor.execute(SEARCH_SQL, {"text": text, "tsq": tsquery(text), "kinds": kinds, "limit": limit})
            for kind, object_id in cursor.fetchall():
                found[kind].append(object_id)
        return found

    def ping(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT extname FROM pg_extension WHERE extname IN ('pg_trgm', 'unaccent')")
            if len(cursor.fetchall()) != 2:
                raise RuntimeError("PostgreSQL extensions pg_trgm and unaccent are needed")


# --- Meilisearch -------------------------------------------------------------------------------

INDEX_SETTINGS: dict[str, Any] = {
    "searchableAttributes": ["name", "context"],
    # id: deleting documents by filter; artistId: searching within one artist's songs.
    "filterableAttributes": ["id", "artistId"],
    "sortableAttributes": ["popularity"],
    "rankingRules": ["words", "typo", "proximity", "attribute", "exactness", "popularity:desc"],
    "typoTolerance": {"enabled": True, "minWordSizeForTypos": {"oneTypo": 4, "twoTypos": 8}},
}


def index_uid(kind: str) -> str:
    return f"{settings.MEILI_INDEX_PREFIX}{kind}s"


class MeiliEngine:
    name = "meilisearch"

    def __init__(self, url: str, key: str, timeout: float) -> None:
        # Handed to requests, which takes fractions of a second too (the client's hint says int).
        self.client = meilisearch.Client(url, key or None, timeout=timeout)  # type: ignore[arg-type]

    def search(self, text: str, kinds: list[str], limit: int) -> dict[str, list[str]]:
        queries = [
            {"indexUid": index_uid(kind), "q": text, "limit": limit, "attributesToRetrieve": ["id"]} for kind in kinds
        ]
        results = self.client.multi_search(queries)["results"]
        return {kind: [hit["id"] for hit in result["hits"]] for kind, result in zip(kinds, results, strict=True)}

    def ping(self) -> None:
        status = self.client.health().get("status")
        if status != "available":
            raise RuntimeError(f"Meilisearch status is {status!r}")


@lru_cache(maxsize=4)
def _meili(url: str, key: str, timeout: float) -> MeiliEngine:
    return MeiliEngine(url, key, timeout)


def postgres() -> PostgresEngine:
    return PostgresEngine()


def meilisearch_engine(*, for_jobs: bool = False) -> MeiliEngine | None:
    """The configured Meilisearch (one client per process and configuration), or None. Searches
    get the short timeout; jobs, which send batches and wait on tasks, a longer one."""
    if not settings.MEILI_URL:
        return None
    timeout = settings.MEILI_SYNC_TIMEOUT_S if for_jobs else settings.MEILI_TIMEOUT_S
    return _meili(settings.MEILI_URL, settings.MEILI_MASTER_KEY, timeout)
