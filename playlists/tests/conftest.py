import pytest

from playlists import services
from playlists.models import PlaylistCollaborator
from tests.factories import PlaylistFactory, SongFactory, UserFactory
from tests.support.auth import auth_client


@pytest.fixture
def collaborator(db):
    return UserFactory(name="Cora Collaborator")


@pytest.fixture
def playlist(owner, collaborator):
    """A private, collaborative playlist of three songs, with one collaborator."""
    playlist = PlaylistFactory(owner=owner, name="Road Trip", collaborative=True)
    PlaylistCollaborator.objects.create(playlist=playlist, user=collaborator)
    for song in SongFactory.create_batch(3):
        services.playlist_song_add(playlist_id=playlist.pk, user=owner, song_id=song.pk)
    playlist.refresh_from_db()
    return playlist


@pytest.fixture
def collaborator_api(collaborator):
    return auth_client(collaborator)


@pytest.fixture
def stranger_api(stranger):
    return auth_client(stranger)


def song_ids(playlist) -> list[str]:
    return list(playlist.entries.order_by("position").values_list("song_id", flat=True))
