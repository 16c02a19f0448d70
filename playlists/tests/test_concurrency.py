"""Two (here: six) clients editing one playlist at once never lose or duplicate a song."""

import random
import threading

import pytest
from django.db import connection

from musicapp.platform.errors import Conflict
from playlists import services
from playlists.models import PlaylistCollaborator
from tests.factories import PlaylistFactory, SongFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_concurrent_adds_and_reorders_lose_nothing():
    owner, collaborator = UserFactory(), UserFactory()
    playlist = PlaylistFactory(owner=owner, collaborative=True)
    PlaylistCollaborator.objects.create(playlist=playlist, user=collaborator)
    songs = [s.pk for s in SongFactory.create_batch(24)]
    batches = [songs[i::4] for i in range(4)]  # four adders, six songs each
    start, errors, refused = threading.Barrier(6), [], []

    def adder(batch, user):
        try:
            start.wait()
            for song_id in batch:
                services.playlist_song_add(
                    playlist_id=playlist.pk, user=user, song_id=song_id, position=random.randint(0, 5)
                )
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)
        finally:
            connection.close()

    def reorderer(user):
        try:
            start.wait()
            for _ in range(8):
                # A client that read the playlist, then sends a shuffled order: stale views are refused.
                current = list(playlist.entries.order_by("position").values_list("song_id", flat=True))
                random.shuffle(current)
                try:
                    services.playlist_reorder(playlist_id=playlist.pk, user=user, song_ids=current)
                except Conflict:
                    refused.append(1)
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=adder, args=(batch, owner if n % 2 else collaborator))
        for n, batch in enumerate(batches)
    ]
    threads += [threading.Thread(target=reorderer, args=(user,)) for user in (owner, collaborator)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    entries = list(playlist.entries.order_by("position").values_list("song_id", "position"))
    assert sorted(song_id for song_id, _ in entries) == sorted(songs)  # all 24, none twice
    assert [position for _, position in entries] == list(range(24))  # dense 0..n-1
    playlist.refresh_from_db()
    assert playlist.song_count == 24
