"""PUT/DELETE /api/library/songs|albums/<id> and GET /api/library."""

from datetime import timedelta

import pytest
from django.utils import timezone

from library.models import LikedAlbum, LikedSong
from musicapp.platform import scoped_cache
from tests.factories import AlbumFactory, SongFactory, UserFactory
from tests.support.auth import auth_client
from tests.support.concurrency import at_once

pytestmark = pytest.mark.django_db


@pytest.fixture
def listener_api(owner):
    return auth_client(owner)


def test_liking_a_song_twice_is_one_like(listener_api, owner):
    song = SongFactory()
    for _ in range(2):
        response = listener_api.put(f"/api/library/songs/{song.pk}")
        assert response.status_code == 200 and response.json()["message"]
    assert LikedSong.objects.filter(user=owner, song=song).count() == 1


def test_unliking_is_idempotent(listener_api, owner):
    song = SongFactory()
    listener_api.put(f"/api/library/songs/{song.pk}")
    assert listener_api.delete(f"/api/library/songs/{song.pk}").status_code == 200
    assert listener_api.delete(f"/api/library/songs/{song.pk}").status_code == 200
    assert not LikedSong.objects.exists()


def test_albums_like_and_unlike(listener_api, owner):
    album = AlbumFactory()
    listener_api.put(f"/api/library/albums/{album.pk}")
    listener_api.put(f"/api/library/albums/{album.pk}")
    assert LikedAlbum.objects.filter(user=owner).count() == 1
    listener_api.delete(f"/api/library/albums/{album.pk}")
    assert not LikedAlbum.objects.exists()


@pytest.mark.parametrize(
    "path",
    [
        "/api/library/songs/aaaaaaaaaaaaaaaaaaaaaaaa",
        "/api/library/albums/aaaaaaaaaaaaaaaaaaaaaaaa",
        "/api/library/songs/nope",
    ],
)
@pytest.mark.parametrize("method", ["put", "delete"])
def test_unknown_ids_are_404(listener_api, path, method):
    response = getattr(listener_api, method)(path)
    assert response.status_code == 404 and response.json()["success"] is False


def test_library_needs_a_token(api):
    song = SongFactory()
    assert api.get("/api/library").status_code == 401
    assert api.put(f"/api/library/songs/{song.pk}").status_code == 401
    assert api.get("/api/recently-played").status_code == 401
    assert api.post("/api/recently-played", {}, format="json").status_code == 401
    assert api.get("/api/recommendations").status_code == 401


def test_library_lists_likes_newest_first(listener_api, owner):
    now = timezone.now()
    songs = SongFactory.create_batch(3)
    for age, song in enumerate(songs):
        LikedSong.objects.create(user=owner, song=song, created_at=now - timedelta(minutes=age))
    album = AlbumFactory()
    SongFactory.create_batch(2, album=album)
    LikedAlbum.objects.create(user=owner, album=album)
    LikedAlbum.objects.create(user=UserFactory(), album=album)  # someone else's like of it
    LikedSong.objects.create(user=UserFactory(), song=SongFactory())  # someone else's
    body = listener_api.get("/api/library").json()["library"]
    assert [s["id"] for s in body["likedSongs"]] == [s.pk for s in songs]
    assert [a["id"] for a in body["likedAlbums"]] == [album.pk]
    assert {"trackNumber", "file", "album"} <= set(body["likedSongs"][0])
    assert body["likedAlbums"][0]["songCount"] == 2


def test_library_query_count_is_constant(listener_api, owner, django_assert_num_queries):
    LikedSong.objects.create(user=owner, song=SongFactory())
    with django_assert_num_queries(3):  # token user, liked songs, liked albums
        listener_api.get("/api/library")
    for song in SongFactory.create_batch(10):
        LikedSong.objects.create(user=owner, song=song)
    for album in AlbumFactory.create_batch(5):
        LikedAlbum.objects.create(user=owner, album=album)
    from django.core.cache import cache

    cache.clear()
    scoped_cache.clear_local()  # and this process's copies: a cold start
    with django_assert_num_queries(3):
        listener_api.get("/api/library")


def test_library_is_cached_and_dropped_when_likes_change(
    listener_api, django_capture_on_commit_callbacks, django_assert_num_queries
):
    song = SongFactory()
    assert listener_api.get("/api/library").json()["library"]["likedSongs"] == []
    with django_assert_num_queries(0):  # the token's user and the library: both cached
        listener_api.get("/api/library")
    with django_capture_on_commit_callbacks(execute=True):
        listener_api.put(f"/api/library/songs/{song.pk}")
    assert [s["id"] for s in listener_api.get("/api/library").json()["library"]["likedSongs"]] == [song.pk]


@pytest.mark.django_db(transaction=True)
def test_concurrent_likes_never_duplicate():
    user, song = UserFactory(), SongFactory()

    def like():
        response = auth_client(user).put(f"/api/library/songs/{song.pk}")
        assert response.status_code == 200

    assert at_once(like, threads=4) == []
    assert LikedSong.objects.filter(user=user, song=song).count() == 1
