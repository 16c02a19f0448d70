from musicapp.platform.errors import InvalidInput
from playlists.models import Playlist, PlaylistSong

NOT_HERE = "No such playlist, or it does not hold this song."


def check_playlist_context(*, user, song, context_id: str) -> str:
    """A play "in a playlist" must name a playlist the listener may read that holds the song."""
    readable = Playlist.objects.visible_to(user).filter(pk=context_id)
    if not context_id or not PlaylistSong.objects.filter(playlist__in=readable, song=song).exists():
        raise InvalidInput(f"contextId: {NOT_HERE}", errors={"context_id": [NOT_HERE]})
    return context_id
