"""/health's search check: a real round trip to whichever engine answers searches."""

from django.db import connection

from search import engines


def check_search() -> None:
    """Meilisearch when it is configured (a failing one is "degraded", even though PostgreSQL
    still answers), else PostgreSQL's search extensions."""
    try:
        (engines.meilisearch_engine() or engines.postgres()).ping()
    finally:
        connection.close()  # health checks run on their own threads
