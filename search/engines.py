"""The two search engines behind one interface: `search(text, kinds, limit)` -> ids per kind,
best first, and `ping()` for /health.

PostgreSQL (always there), in two statements. The first normalises the query (lower case,
PostgreSQL's unaccent), splits it into words and looks each up in the vocabulary of the indexed
words (SearchWord): a word it does not hold (the last word: no word starts with it) gets up to
three close ones by trigram similarity, as typo corrections. The second asks, per kind, for the
few best candidates of each tier, each an index scan that stops early:

1. the name is the query (btree on (kind, name_norm));
2. the name starts with the query (the same btree, a LIKE prefix);
3. every word is in the name or its context (artist, album...), the last as a prefix (GIN on
   the tsvector, or the popularity index when the words are common);
4. when those found fewer than asked for: every word or a close one (typos), then the known
   words alone (a mistyped word nothing is close to is left out).

Candidates are then ranked by tier, every word in the name, closeness (trigram similarity of the
name, or of its best-matching part), popularity. Nothing scans all the documents, so the cost
stays flat as the catalog grows (bench/search.py: docs/PERFORMANCE.md).

Meilisearch (when MEILI_URL is set), through its official client: one index per kind, typo
tolerance and prefix search as Meilisearch does them, popularity as a ranking rule.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import meilisearch
from django.conf import settings
from django.db import connection, transaction

KINDS = ("song", "album", "artist", "playlist")
WORD_SIMILARITY = 0.25  # how close (trigrams) a vocabulary word must be to stand in for a mistyped one
MIN_TYPO_LENGTH = 4  # shorter words are never corrected (as Meilisearch's minWordSizeForTypos)
CORRECTIONS = 3  # close words tried per mistyped word
MIN_CANDIDATES = 20  # per kind and tier, at least (limit, if larger)

# Statement 1: the normalised query, and per word: is it known, and what is close to it.
PREPARE_SQL = """
WITH q AS (
    SELECT regexp_replace(btrim(lower(public.unaccent(normalize(%(q)s, NFC)))), '\\s+', ' ', 'g') AS text
), words AS (
    SELECT w.word, w.n, w.n = max(w.n) OVER () AS last
    FROM q, regexp_split_to_table(q.text, '[\\W_]+') WITH ORDINALITY AS w(word, n)
    WHERE w.word <> ''
)
SELECT set_config('pg_trgm.similarity_threshold', %(similarity)s, true), q.text,
       coalesce((
           SELECT json_agg(json_build_array(
               words.word,
               words.last,
               EXISTS (SELECT FROM search_searchword v WHERE v.word = words.word
                       OR (words.last AND v.word LIKE words.word || '%%')),
               ARRAY(SELECT v.word FROM search_searchword v
                     WHERE char_length(words.word) >= %(min_typo)s AND v.word %% words.word AND v.word <> words.word
                     ORDER BY v.word <-> words.word, v.docs DESC, v.word LIMIT %(corrections)s)
           ) ORDER BY words.n)
           FROM words
       ), '[]')
FROM q
"""

# Statement 2: per kind (a literal from KINDS) and tier, the candidates, best known first; the
# corrected words only for a kind whose other tiers found fewer than were asked for.
TIER_SQL = """
(SELECT '{kind}' AS kind, {tier} AS tier, d.object_id, d.popularity FROM search_searchdocument d
 WHERE d.kind = '{kind}' AND {match} ORDER BY d.popularity DESC, d.object_id LIMIT %(k)s)"""
EXACT = "d.name_norm = %(text)s"
PREFIX = "d.name_norm LIKE %(prefix)s"
WORDS = "d.tsv @@ %(words)s::tsquery"
FEW = "(SELECT count(DISTINCT s.object_id) FROM strict s WHERE s.kind = '{kind}') < %(limit)s"
CORRECTED = "d.tsv @@ %(corrected)s::tsquery AND " + FEW
KNOWN_ONLY = "d.tsv @@ %(known)s::tsquery AND " + FEW
RANK_SQL = """
WITH strict AS ({strict}), found AS (
    SELECT * FROM strict{corrected}
), best AS (
    SELECT DISTINCT ON (f.kind, f.object_id) f.kind, f.object_id, f.tier, f.popularity,
           to_tsvector('simple', d.name_norm) @@ %(rank)s::tsquery AS name_words,
           greatest(similarity(d.name_norm, %(text)s), word_similarity(%(text)s, d.text_norm)) AS closeness
    FROM found f JOIN search_searchdocument d ON d.kind = f.kind AND d.object_id = f.object_id
    ORDER BY f.kind, f.object_id, f.tier
)
SELECT kind, object_id FROM (
    SELECT kind, object_id, row_number() OVER (
        PARTITION BY kind ORDER BY tier, name_words DESC, closeness DESC, popularity DESC, object_id
    ) AS rank
    FROM best
) ranked
WHERE rank <= %(limit)s
ORDER BY kind, rank
"""


ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"
MAX_EDITS_LENGTH = 7  # longer words have trigrams enough


def one_typo_away(word: str) -> set[str]:
    """Every spelling one edit away (deletion, transposition, substitution, insertion)."""
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    return (
        {a + b[1:] for a, b in splits if b}
        | {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
        | {a + c + b[1:] for a, b in splits if b for c in ALPHABET}
        | {a + c + b for a, b in splits for c in ALPHABET}
    ) - {word}


def _like_prefix(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _lexeme(word: str, prefix: bool = False) -> str:
    return "'" + word.replace("'", "''") + "'" + (":*" if prefix else "")


@dataclass
class Plan:
    """What statement 1 made of a query: the tsqueries of statement 2 ("" when there is none)."""

    text: str
    words: str  # every word, the last a prefix
    corrected: str  # each word or a close one; "" when no word has a close one
    known: str  # the known words only, when some are not ("" otherwise)
    rank: str  # what "every word in the name" means when ranking

    @classmethod
    def of(cls, text: str, analysed: list[list[Any]]) -> Plan:
        if not analysed:
            return cls(text, "", "", "", "")
        matched = analysed
        if len(analysed) > 1 and len(analysed[-1][0]) < 3:
            # A letter or two being typed after other words: too many words start with them to
            # be worth matching; the name prefix (tier 2) and the ranking still use them.
            matched = analysed[:-1]
        words = " & ".join(_lexeme(word, prefix=last) for word, last, _, _ in matched)
        # Each word as typed (the vocabulary is the catalog's: a word it lacks may still be in a
        # playlist's name) or a word close to it.
        parts = [
            "(" + " | ".join([_lexeme(word, prefix=last), *map(_lexeme, close)]) + ")"
            for word, last, _, close in matched
        ]
        corrected = " & ".join(parts) if any(close for *_, close in matched) else ""
        known = [_lexeme(word, prefix=last) for word, last, is_known, _ in matched if is_known]
        known_only = " & ".join(known) if len(known) < len(matched) else ""
        return cls(text, words, corrected, known_only, corrected or words)


class PostgresEngine:
    name = "postgres"

    def plan(self, cursor: Any, text: str) -> Plan:
        cursor.execute(
            PREPARE_SQL,
            {"q": text, "similarity": str(WORD_SIMILARITY), "min_typo": MIN_TYPO_LENGTH, "corrections": CORRECTIONS},
        )
        _, normalised, analysed = cursor.fetchone()
        analysed = json.loads(analysed) if isinstance(analysed, str) else analysed
        # Trigrams miss a typo in a short word ("rian" and "rain" share one): for those, every
        # spelling one typo away (a letter missing, extra, wrong, or two swapped) is looked up.
        short = {
            word: one_typo_away(word)
            for word, _, known, _ in analysed
            if not known and MIN_TYPO_LENGTH <= len(word) <= MAX_EDITS_LENGTH and word.isascii()
        }
        if short:
            cursor.execute(
                "SELECT word FROM search_searchword WHERE word = ANY(%s) ORDER BY docs DESC, word",
                [sorted(set().union(*short.values()))],
            )
            common_first = [row[0] for row in cursor.fetchall()]
            for entry in analysed:
                if entry[0] in short:
                    one_typo = [word for word in common_first if word in short[entry[0]]]
                    entry[3] = list(dict.fromkeys(one_typo + entry[3]))[:CORRECTIONS]
        return Plan.of(normalised, analysed)

    def ranked(self, plan: Plan, kinds: list[str], limit: int) -> tuple[str, dict[str, Any]]:
        """Statement 2 and its parameters."""
        kinds = [kind for kind in kinds if kind in KINDS]  # inlined as literals: only ours
        tiers = [EXACT, PREFIX, *([WORDS] if plan.words else [])]
        strict = " UNION ALL ".join(
            TIER_SQL.format(kind=kind, tier=number, match=match)
            for kind in kinds
            for number, match in enumerate(tiers, start=1)
        )
        # The last resorts, only for kinds the tiers above found too little in: the words
        # corrected, then the mistyped words left out.
        resorts = [*([CORRECTED] if plan.corrected else []), *([KNOWN_ONLY] if plan.known else [])]
        corrected = "".join(
            " UNION ALL " + TIER_SQL.format(kind=kind, tier=number, match=match.format(kind=kind))
            for kind in kinds
            for number, match in enumerate(resorts, start=len(tiers) + 1)
        )
        params: dict[str, Any] = {
            "text": plan.text,
            "prefix": _like_prefix(plan.text),
            "words": plan.words,
            "corrected": plan.corrected,
            "known": plan.known,
            "rank": plan.rank,
            "k": max(MIN_CANDIDATES, limit),
            "limit": limit,
        }
        return RANK_SQL.format(strict=strict, corrected=corrected), params

    def search(self, text: str, kinds: list[str], limit: int) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {kind: [] for kind in kinds}
        with transaction.atomic(), connection.cursor() as cursor:
            plan = self.plan(cursor, text)
            if plan.text:
                cursor.execute(*self.ranked(plan, kinds, limit))
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
