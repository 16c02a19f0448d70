from django.apps import AppConfig
from django.db.models.signals import post_delete, post_migrate


class SearchConfig(AppConfig):
    name = "search"
    verbose_name = "Search"

    def ready(self) -> None:
        from musicapp.platform import health, indexing
        from search import services
        from search.backends import check_search

        health.register("search", check_search)
        indexing.listen(services.documents_changed, on_popularity=services.popularity_changed)
        post_migrate.connect(_documents_for_an_existing_catalog, sender=self)
        # Playlists also go when their owner does (a user deleted by staff): a cascade, which
        # no service of the playlists app sees.
        post_delete.connect(_playlist_deleted, sender="playlists.Playlist")


def _playlist_deleted(sender, instance, **kwargs) -> None:
    from musicapp.platform import indexing

    indexing.changed("playlist", [instance.pk])


def _documents_for_an_existing_catalog(sender, using, **kwargs) -> None:
    """A database that had a catalog before search existed gets its documents on migrate (once:
    later, every write keeps them in step). Not while search's own migrations are not all
    applied (a migration back, a partial one)."""
    from django.db import connections
    from django.db.migrations.executor import MigrationExecutor

    from search import services

    executor = MigrationExecutor(connections[using])
    leaves = [node for node in executor.loader.graph.leaf_nodes() if node[0] == "search"]
    if any(leaf not in executor.loader.applied_migrations for leaf in leaves):
        return
    if services.documents_missing():
        services.reindex()
