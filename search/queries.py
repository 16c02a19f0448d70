"""Answering a search: the configured engine, PostgreSQL when Meilisearch fails (counted in
/metrics, logged, and /health says so), and the ids turned into the API's objects. The ids are
cached per query until a change that search shows."""

from __future__ import annotations

import hashlib
import logging
import time
from typing import Any

from django.conf import settings
from prometheus_client import Counter

from library.models import Album, Artist, Song
from library.serializers import AlbumSerializer, ArtistSerializer, SongSerializer
from musicapp.platform import scoped_cache
from playlists.models import Playlist
from playlists.serializers import PlaylistSerializer
from search import engines

logger = logging.getLogger(__name__)
fallbacks = Counter("musicapp_search_fallbacks_total", "Searches PostgreSQL answered because Meilisearch failed.")

PLURALS = {"song": "songs", "album": "albums", "artist": "artists", "playlist": "playlists"}


def cache_key(text: str, kinds: list[str], limit: int) -> str:
    """Two queries share an answer only if the engines cannot tell them apart: ASCII letters
    folded to lower case (as PostgreSQL and Meilisearch both do), nothing else. A looser key
    ("Beyoncé" = "beyonce" by Python's rules) would let one query's answer be served for another
    that PostgreSQL reads differently (circled letters, say): anyone could blank out a search."""
    folded = "".join(c.lower() if c.isascii() else c for c in text)
    return hashlib.sha256(f"{folded}|{','.join(kinds)}|{limit}".encode()).hexdigest()


class _Breaker:
    """After Meilisearch fails, this process asks PostgreSQL for MEILI_RETRY_AFTER_S seconds
    before trying Meilisearch again: a dead or hung server costs one timeout, not one per search."""

    open_until = 0.0

    def allows(self) -> bool:
        return time.monotonic() >= self.open_until

    def tripped(self) -> None:
        self.open_until = time.monotonic() + settings.MEILI_RETRY_AFTER_S


breaker = _Breaker()


def _ids(text: str, kinds: list[str], limit: int) -> tuple[dict[str, list[str]], str]:
    meili = engines.meilisearch_engine()
    if meili is not None:
        if breaker.allows():
            try:
                return meili.search(text, kinds, limit), meili.name
            except Exception as exc:  # noqa: BLE001 - any failure of Meilisearch: PostgreSQL answers
                breaker.tripped()
                logger.warning(
                    "Meilisearch failed (%r); PostgreSQL answers for the next %s s", exc, settings.MEILI_RETRY_AFTER_S
                )
        fallbacks.inc()
    postgres = engines.postgres()
    return postgres.search(text, kinds, limit), postgres.name


def _in_order(queryset: Any, ids: list[str]) -> list[Any]:
    found = queryset.in_bulk(ids)
    return [found[object_id] for object_id in ids if object_id in found]


def _hydrate(found: dict[str, list[str]]) -> dict[str, Any]:
    results: dict[str, Any] = {}
    if "song" in found:
        results["songs"] = SongSerializer(_in_order(Song.objects.for_api(), found["song"]), many=True).data
    if "album" in found:
        results["albums"] = AlbumSerializer(_in_order(Album.objects.for_api(), found["album"]), many=True).data
    if "artist" in found:
        results["artists"] = ArtistSerializer(_in_order(Artist.objects.for_api(), found["artist"]), many=True).data
    if "playlist" in found:
        # Public ones only, checked again here: an index a moment behind must not show a
        # playlist that just turned private.
        public = Playlist.objects.for_api().filter(is_public=True)
        results["playlists"] = PlaylistSerializer(_in_order(public, found["playlist"]), many=True).data
    return results


def search(text: str, kinds: list[str], limit: int) -> tuple[dict[str, Any], str]:
    """(results by plural kind, the engine that answered). The ids are cached (until a change
    search shows); the objects are built fresh each time, so a new cover, bio or song order
    shows at once."""
    found, engine = scoped_cache.cached(
        "search", cache_key(text, kinds, limit), lambda: _ids(text, kinds, limit), timeout=300
    )
    return {**{PLURALS[kind]: [] for kind in kinds}, **_hydrate(found)}, engine
