from django.urls import path

import musicapp.converters  # noqa: F401 - registers <oid:...>
from library import api

song_urlpatterns = [
    path("list", api.SongListView.as_view(), name="song-list"),
    path("<oid:song_id>/lyrics", api.LyricsView.as_view(), name="song-lyrics"),
    path("<oid:song_id>", api.SongDetailView.as_view(), name="song-detail"),
]
album_urlpatterns = [
    path("list", api.AlbumListView.as_view(), name="album-list"),
    path("<oid:album_id>", api.AlbumDetailView.as_view(), name="album-detail"),
]
artist_urlpatterns = [
    path("list", api.ArtistListView.as_view(), name="artist-list"),
    path("<oid:artist_id>", api.ArtistDetailView.as_view(), name="artist-detail"),
]
