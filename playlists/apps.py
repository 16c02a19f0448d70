from django.apps import AppConfig


class PlaylistsConfig(AppConfig):
    name = "playlists"
    verbose_name = "Playlists"

    def ready(self) -> None:
        from library import contexts
        from musicapp.adapters import media
        from playlists.contexts import check_playlist_context
        from playlists.models import Playlist

        contexts.register("playlist", check_playlist_context)
        media.register_owner(Playlist, "banner")
