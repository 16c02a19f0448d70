"""Jobs of search: pushing the outbox to Meilisearch (batched; retried until it succeeds)."""

from __future__ import annotations

from musicapp.platform.jobs import job, periodic
from search import services


@job(name="search.sync", queueing_lock="search.sync")
def sync() -> None:
    services.push_pending()


@periodic(schedule="search_sync", name="search.sync_net", queueing_lock="search.sync_net")
def sync_net(timestamp: int) -> None:
    """The net under search.sync: whatever the outbox still holds (its job gave up, say)."""
    services.push_pending()


@periodic(schedule="search_vocabulary", name="search.vocabulary", queueing_lock="search.vocabulary")
def vocabulary(timestamp: int) -> None:
    """Typo corrections: count each catalog word's documents anew; words gone go."""
    services.vocabulary_rebuild()
