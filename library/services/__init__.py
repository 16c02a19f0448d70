"""Every write on the library app (STYLE.md: writes go through services)."""

from library.services import listening
from library.services.catalog import (
    album_save,
    artist_save,
    catalog_delete,
    genre_save,
    lyrics_delete,
    lyrics_save,
    song_save,
)

__all__ = [
    "album_save",
    "artist_save",
    "catalog_delete",
    "genre_save",
    "listening",
    "lyrics_delete",
    "lyrics_save",
    "song_save",
]
