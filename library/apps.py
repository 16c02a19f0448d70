from django.apps import AppConfig


class LibraryConfig(AppConfig):
    name = "library"
    verbose_name = "Library"

    def ready(self) -> None:
        from library.models import Album, Artist, Song
        from musicapp.adapters import media

        media.register_owner(Artist, "image")
        media.register_owner(Album, "image")
        media.register_owner(Song, "file", "image")
