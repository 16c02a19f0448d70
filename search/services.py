"""Every write of the search app: keeping documents in step, pushing them to Meilisearch through
the outbox, rebuilding everything, and a user's recent searches."""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Iterator
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from meilisearch.errors import MeilisearchApiError

from accounts.models import User
from musicapp.platform import scoped_cache, switches
from musicapp.platform.ids import new_object_id
from musicapp.platform.jobs import enqueue
from search import documents, engines
from search.models import MAX_RECENT, RecentSearch, SearchChange, SearchDocument

logger = logging.getLogger(__name__)
PUSH_BATCH = 500
PUSH_LOCK = 0x5EA2C4  # pg_advisory_lock key of the Meilisearch writers
MEILI_TASK_TIMEOUT_MS = 60_000


def meili_enabled() -> bool:
    return bool(settings.MEILI_URL)


def _sync_soon() -> None:
    """One sync job at a time waits in the queue: changes meanwhile ride with it (a batch)."""
    from procrastinate.exceptions import AlreadyEnqueued

    with contextlib.suppress(AlreadyEnqueued), transaction.atomic():  # a savepoint: the refused
        enqueue("search.sync")  # insert must not abort the caller's transaction


def _record(changed: list[tuple[str, str]]) -> None:
    if meili_enabled() and changed:
        SearchChange.objects.bulk_create(
            [SearchChange(kind=kind, object_id=object_id) for kind, object_id in changed], batch_size=5000
        )
        _sync_soon()


def documents_changed(kind: str, ids: list[str]) -> None:
    """The listener of musicapp.platform.indexing: rebuild these documents now (same transaction);
    for those that changed, retire the cached answers and, with Meilisearch, record them in the
    outbox for the sync job."""
    changed = documents.refresh(kind, ids)
    if changed:
        scoped_cache.changed_on_commit("search")
        _record([(kind, object_id) for object_id in changed])


def popularity_changed() -> None:
    """Plays were counted anew: the documents whose popularity moved, and Meilisearch's copies."""
    changed = documents.refresh_popularity()
    if changed:
        scoped_cache.changed_on_commit("search")
        _record(changed)


def _meili_document(document: SearchDocument) -> dict[str, Any]:
    return {
        "id": document.object_id,
        "artistId": document.artist_id,
        "name": document.name,
        "context": document.context,
        "popularity": document.popularity,
    }


def _wait(client: Any, *tasks: Any) -> None:
    """Wait for Meilisearch's tasks (it runs them in the order they came) and fail on any failure."""
    for task in tasks:
        result = client.wait_for_task(task.task_uid, timeout_in_ms=MEILI_TASK_TIMEOUT_MS)
        if getattr(result, "status", None) != "succeeded":
            raise RuntimeError(f"Meilisearch task {task.task_uid} ended {getattr(result, 'status', '?')}: {result}")


ORDERLESS = {"filterableAttributes", "sortableAttributes"}  # Meilisearch returns these sorted


def _differs(current: Any, wanted: Any) -> bool:
    """Whether Meilisearch's settings differ from ours (which name only some of its keys)."""
    if isinstance(wanted, dict):
        if not isinstance(current, dict):
            return True
        return any(
            sorted(current.get(k) or []) != sorted(v) if k in ORDERLESS else _differs(current.get(k), v)
            for k, v in wanted.items()
        )
    return current != wanted


def ensure_indexes(client: Any) -> None:
    """Each kind's index exists, with the settings the code states: read, and changed only when
    they differ (a settings change makes Meilisearch reindex)."""
    tasks = []
    for kind in engines.KINDS:
        uid = engines.index_uid(kind)
        try:
            client.get_index(uid)
        except MeilisearchApiError as exc:
            if exc.code != "index_not_found":
                raise
            tasks.append(client.create_index(uid, {"primaryKey": "id"}))
            tasks.append(client.index(uid).update_settings(engines.INDEX_SETTINGS))
            continue
        if _differs(client.index(uid).get_settings(), engines.INDEX_SETTINGS):
            tasks.append(client.index(uid).update_settings(engines.INDEX_SETTINGS))
    _wait(client, *tasks)


@contextlib.contextmanager
def _one_pusher() -> Iterator[None]:
    """One writer to Meilisearch at a time (sync jobs on several workers, a reindex), so that
    what it receives last is what PostgreSQL holds last. A session lock: nothing waits in a
    transaction while Meilisearch works."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", [PUSH_LOCK])
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [PUSH_LOCK])


def push_pending(batch: int = PUSH_BATCH) -> int:
    """Push the outbox to Meilisearch, a batch at a time: what exists is upserted, what is gone
    is deleted, and only then are those changes dropped. A failure raises (the job is retried)
    and leaves the changes in the outbox. Returns how many changes were pushed."""
    engine = engines.meilisearch_engine(for_jobs=True)
    if engine is None:
        return SearchChange.objects.all().delete()[0]
    client = engine.client
    pushed = 0
    with _one_pusher():
        ensure_indexes(client)
        while changes := list(SearchChange.objects.order_by("id")[:batch]):
            by_kind: dict[str, set[str]] = {}
            for change in changes:
                by_kind.setdefault(change.kind, set()).add(change.object_id)
            tasks = []
            for kind, ids in by_kind.items():
                index = client.index(engines.index_uid(kind))
                present = list(SearchDocument.objects.filter(kind=kind, object_id__in=ids))
                if present:
                    tasks.append(index.add_documents([_meili_document(d) for d in present], primary_key="id"))
                gone = sorted(ids - {d.object_id for d in present})
                if gone:  # by filter (deleting by a list of ids is deprecated); ids are hex
                    quoted = ", ".join(f'"{object_id}"' for object_id in gone)
                    tasks.append(index.delete_documents(filter=f"id IN [{quoted}]"))
            _wait(client, *tasks)
            # Only these rows: a change recorded meanwhile has a row of its own, pushed next.
            SearchChange.objects.filter(pk__in=[change.pk for change in changes]).delete()
            pushed += len(changes)
    return pushed


Progress = Callable[[str, int, int], Any]  # (stage, its total, how many more are done)


def _batches(queryset: Any, size: int) -> Iterator[list[Any]]:
    batch = []
    for row in queryset.iterator(chunk_size=size):
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def reindex(progress: Progress | None = None) -> dict[str, int]:
    """Rebuild every document, and (with Meilisearch) every index with no downtime: each kind is
    built whole into a new index while the live ones serve, then all are swapped in at once."""
    report = progress or (lambda stage, total, done: None)
    counts = {}
    for kind in engines.KINDS:
        with transaction.atomic():  # readers see the old documents until this commits
            counts[kind] = documents.rebuild_all(kind)
            scoped_cache.changed_on_commit("search")
        report("PostgreSQL documents", len(engines.KINDS), 1)
    documents.rebuild_words()
    with connection.cursor() as cursor:  # fresh statistics: the planner picks each tier's index by them
        cursor.execute("ANALYZE search_searchdocument, search_searchword")
    engine = engines.meilisearch_engine(for_jobs=True)
    if engine is None:
        return counts
    client = engine.client
    with _one_pusher():
        ensure_indexes(client)  # the live ones must exist to be swapped
        # The changes committed by now are covered by the new indexes; any other (later, or
        # committing meanwhile with a lower id) stays in the outbox and reaches them after the swap.
        covered = list(SearchChange.objects.values_list("id", flat=True))
        suffix = f"_reindex_{int(time.time())}"
        fresh = {kind: engines.index_uid(kind) + suffix for kind in engines.KINDS}
        _wait(client, *(client.create_index(uid, {"primaryKey": "id"}) for uid in fresh.values()))
        _wait(client, *(client.index(uid).update_settings(engines.INDEX_SETTINGS) for uid in fresh.values()))
        for kind, uid in fresh.items():
            rows = SearchDocument.objects.filter(kind=kind).order_by("object_id")
            for batch in _batches(rows, PUSH_BATCH):
                _wait(client, client.index(uid).add_documents([_meili_document(d) for d in batch], primary_key="id"))
                report(f"Meilisearch {kind}s", counts[kind], len(batch))
        _wait(client, client.swap_indexes([{"indexes": [engines.index_uid(k), uid]} for k, uid in fresh.items()]))
        _wait(client, *(client.delete_index(uid) for uid in fresh.values()))  # the old documents now
        for start in range(0, len(covered), 5000):
            SearchChange.objects.filter(id__in=covered[start : start + 5000]).delete()
    return counts


def vocabulary_rebuild() -> int:
    return documents.rebuild_words()


def documents_missing() -> bool:
    """The catalog has rows but search has no documents (a database from before search)."""
    from library.models import Song

    return not SearchDocument.objects.exists() and Song.objects.exists()


# --- recent searches --------------------------------------------------------------------------


RECENT_LOCK = 0x5EA2C5  # with the user id's hash: one user's recent searches are written one at a time

RECORD_SQL = """
INSERT INTO search_recentsearch (id, created_at, updated_at, user_id, query)
VALUES (%(id)s, clock_timestamp(), clock_timestamp(), %(user)s, %(query)s)
ON CONFLICT (user_id, lower(query)) DO UPDATE
SET query = EXCLUDED.query, created_at = clock_timestamp(), updated_at = clock_timestamp()
"""


def recent_search_record(*, user: User, query: str) -> None:
    """Remember a non-empty query: once whatever its case (PostgreSQL's lower(), which the
    unique index uses, decides: not Python's, which differs on "Σ" or "İ"), newest first,
    MAX_RECENT kept. Concurrent searches of one user queue on a lock, so the trimming never
    sees a stale order and drops the query just searched."""
    query = query.strip()[:100]
    if not query or switches.current().read_only:  # in maintenance the search answers, unrecorded
        return
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", [RECENT_LOCK, user.pk])
        cursor.execute(RECORD_SQL, {"id": new_object_id(), "user": user.pk, "query": query})
        stale = (
            RecentSearch.objects.filter(user=user)
            .order_by("-created_at", "-id")
            .values_list("pk", flat=True)[MAX_RECENT:]
        )
        RecentSearch.objects.filter(pk__in=list(stale)).delete()


def recent_searches_clear(*, user: User) -> None:
    RecentSearch.objects.filter(user=user).delete()
