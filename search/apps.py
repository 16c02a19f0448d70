from django.apps import AppConfig


class SearchConfig(AppConfig):
    name = "search"
    verbose_name = "Search"

    def ready(self) -> None:
        from musicapp.platform import health
        from search.backends import check_search

        health.register("search", check_search)
