from musicapp.platform.errors import InvalidInput
from playlists.models import Playlist, PlaylistSong
from playlists.services import can_read

NOT_HERE = "No such playlist, or it does not hold this song."


def check_playlist_context(*, user, song, context_id: str) -> str:
    """A play "in a playlist" must name a playlist the listener may read that holds the song."""
    playlist = Playlist.objects.filter(pk=context_id).first() if context_id else None
    if (
        playlist is None
        or not can_read(playlist, user)
        or not PlaylistSong.objects.filter(playlist=playlist, song=song).exists()
    ):
        raise InvalidInput(f"contextId: {NOT_HERE}", errors={"context_id": [NOT_HERE]})
    return context_id
