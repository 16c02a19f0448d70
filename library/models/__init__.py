from library.models.catalog import Album, Artist, Genre, Lyrics, Song
from library.models.listening import LikedAlbum, LikedSong, Play, PopularSong, Recommendation

__all__ = [
    "Album",
    "Artist",
    "Genre",
    "LikedAlbum",
    "LikedSong",
    "Lyrics",
    "Play",
    "PopularSong",
    "Recommendation",
    "Song",
]
