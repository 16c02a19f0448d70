from django.urls import path

import musicapp.platform.converters  # noqa: F401 - registers <oid:...>
from library.api import catalog as api
from library.api import listening

song_urlpatterns = [
    path("list", api.SongListView.as_view(), name="song-list"),
    path("popular", listening.PopularSongsView.as_view(), name="song-popular"),
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
library_urlpatterns = [
    path("library", listening.LibraryView.as_view(), name="library"),
    path("library/songs/<oid:song_id>", listening.LikeSongView.as_view(), name="library-song"),
    path("library/albums/<oid:album_id>", listening.LikeAlbumView.as_view(), name="library-album"),
    path("recently-played", listening.RecentlyPlayedView.as_view(), name="recently-played"),
    path("recommendations", listening.RecommendationsView.as_view(), name="recommendations"),
]
