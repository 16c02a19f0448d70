from django.apps import AppConfig


class PlaylistsConfig(AppConfig):
    name = "playlists"
    verbose_name = "Playlists"

    def ready(self):
        from library import contexts
        from playlists.contexts import check_playlist_context

        contexts.register("playlist", check_playlist_context)
