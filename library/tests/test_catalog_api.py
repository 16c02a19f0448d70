"""The Catalog section of API.md: shapes, filters, pagination, 404s, caching and 304s."""

from datetime import timedelta

import pytest
from django.utils import timezone

from library.models import Lyrics
from library.services import lyrics_save
from tests.factories import AlbumFactory, ArtistFactory, GenreFactory, SongFactory

pytestmark = pytest.mark.django_db
SONG_KEYS = {"id", "name", "desc", "image", "file", "duration", "album", "artist", "genre", "trackNumber", "createdAt"}
ALBUM_KEYS = {"id", "name", "desc", "image", "bgColour", "artist", "releaseDate", "songCount"}


@pytest.fixture
def album(db):
    album = AlbumFactory(name="Terminus", bg_colour="#123456")
    for track in (3, 1, 2):
        SongFactory(album=album, track_number=track, name=f"Track {track}")
    return album


# --- songs --------------------------------------------------------------------------------


def test_song_detail_shape(client, album):
    song = album.songs.get(track_number=1)
    response = client.get(f"/api/song/{song.pk}")
    assert response.status_code == 200
    body = response.json()["song"]
    assert set(body) == SONG_KEYS
    assert body["album"] == {"id": album.pk, "name": "Terminus"}
    assert body["artist"] == {"id": album.artist.pk, "name": album.artist.name}
    assert (body["genre"], body["trackNumber"], body["duration"]) == ("Rock", 1, 215.5)
    assert body["file"].startswith("http://127.0.0.1:8000/media/audio/")
    assert body["image"].endswith(album.image.removeprefix("local:"))  # the album's cover stands in


def test_song_without_album_or_artist(client):
    song = SongFactory(album=None, artist=None, genre=None, image="")
    body = client.get(f"/api/song/{song.pk}").json()["song"]
    assert (body["album"], body["artist"], body["genre"], body["image"]) == (None, None, None, None)


@pytest.mark.parametrize(
    "path",
    [
        "/api/song/aaaaaaaaaaaaaaaaaaaaaaaa",
        "/api/song/not-an-id",
        "/api/song/aaaaaaaaaaaaaaaaaaaaaaaa/lyrics",
        "/api/album/aaaaaaaaaaaaaaaaaaaaaaaa",
        "/api/artist/aaaaaaaaaaaaaaaaaaaaaaaa",
    ],
)
def test_unknown_ids_are_404_envelopes(client, path):
    response = client.get(path)
    assert response.status_code == 404
    assert response.json()["success"] is False


def test_song_list_is_newest_first_and_paginated(client):
    now = timezone.now()
    songs = [SongFactory(created_at=now - timedelta(minutes=i)) for i in range(5)]
    first = client.get("/api/song/list", {"limit": 3}).json()
    assert [s["id"] for s in first["songs"]] == [s.pk for s in songs[:3]]
    assert first["hasMore"] is True
    second = client.get("/api/song/list", {"limit": 3, "cursor": first["nextCursor"]}).json()
    assert [s["id"] for s in second["songs"]] == [s.pk for s in songs[3:]]
    assert (second["hasMore"], second["nextCursor"]) == (False, None)


def test_song_list_filters(client, album):
    other = SongFactory(genre=GenreFactory(slug="jazz"), album=None, artist=ArtistFactory())
    by_album = client.get("/api/song/list", {"album": album.pk}).json()["songs"]
    assert {s["album"]["id"] for s in by_album} == {album.pk} and len(by_album) == 3
    by_artist = client.get("/api/song/list", {"artist": other.artist.pk}).json()["songs"]
    assert [s["id"] for s in by_artist] == [other.pk]
    for genre in ("jazz", "Jazz", "JAZZ"):
        assert [s["id"] for s in client.get("/api/song/list", {"genre": genre}).json()["songs"]] == [other.pk]
    assert client.get("/api/song/list", {"genre": "polka"}).json()["songs"] == []


def test_song_list_rejects_malformed_filters(client):
    response = client.get("/api/song/list", {"album": "nope"})
    assert response.status_code == 400
    assert response.json()["errors"] == {"album": ["Enter an id of 24 hex characters."]}


def test_song_list_query_count_is_constant(client, django_assert_num_queries):
    SongFactory.create_batch(3)
    with django_assert_num_queries(1):
        client.get("/api/song/list", {"limit": 50})
    SongFactory.create_batch(20)
    with django_assert_num_queries(1):
        client.get("/api/song/list", {"limit": 50, "genre": "rock"})


# --- lyrics -------------------------------------------------------------------------------


def test_lyrics_plain_and_synced(client, album, django_capture_on_commit_callbacks):
    song = album.songs.get(track_number=1)
    with django_capture_on_commit_callbacks(execute=True):
        lyrics_save(lyrics=Lyrics(song=song, plain="one\ntwo", synced_lrc="[00:02.00]two\n[00:01.00]one"))
    assert client.get(f"/api/song/{song.pk}/lyrics").json() == {
        "success": True,
        "lyrics": {"plain": "one\ntwo", "synced": [{"time": 1.0, "text": "one"}, {"time": 2.0, "text": "two"}]},
    }


def test_plain_only_lyrics_have_null_synced(client, album):
    song = album.songs.get(track_number=1)
    lyrics_save(lyrics=Lyrics(song=song, plain="just words"))
    assert client.get(f"/api/song/{song.pk}/lyrics").json()["lyrics"] == {"plain": "just words", "synced": None}


def test_song_without_lyrics_is_404_saying_so(client, album):
    response = client.get(f"/api/song/{album.songs.first().pk}/lyrics")
    assert response.status_code == 404 and response.json()["message"] == "This song has no lyrics."


# --- albums and artists -------------------------------------------------------------------


def test_album_detail_has_songs_in_track_order(client, album, django_assert_num_queries):
    with django_assert_num_queries(2):  # the album with its count, then its songs
        response = client.get(f"/api/album/{album.pk}")
    body = response.json()["album"]
    assert set(body) == ALBUM_KEYS | {"songs"}
    assert [s["trackNumber"] for s in body["songs"]] == [1, 2, 3]
    assert (body["songCount"], body["bgColour"], body["artist"]["id"]) == (3, "#123456", album.artist.pk)


def test_album_list_with_song_counts_in_one_query(client, album, django_assert_num_queries):
    AlbumFactory.create_batch(4)
    with django_assert_num_queries(1):
        body = client.get("/api/album/list").json()
    assert len(body["albums"]) == 5
    assert set(body["albums"][0]) == ALBUM_KEYS
    assert {a["id"]: a["songCount"] for a in body["albums"]}[album.pk] == 3


def test_artist_list_and_detail_with_albums(client, album, django_assert_num_queries):
    body = client.get("/api/artist/list").json()
    assert [a["id"] for a in body["artists"]] == [album.artist.pk]
    assert set(body["artists"][0]) == {"id", "name", "bio", "image", "createdAt"}
    with django_assert_num_queries(2):
        artist = client.get(f"/api/artist/{album.artist.pk}").json()["artist"]
    assert [a["id"] for a in artist["albums"]] == [album.pk]
    assert artist["albums"][0]["songCount"] == 3


# --- caching ------------------------------------------------------------------------------


def test_public_responses_carry_cache_control_and_etag(client, album):
    response = client.get(f"/api/album/{album.pk}")
    assert response["Cache-Control"] == "public, max-age=60"
    assert response["ETag"].startswith('"')


def test_matching_if_none_match_is_304(client, album):
    etag = client.get(f"/api/album/{album.pk}")["ETag"]
    response = client.get(f"/api/album/{album.pk}", HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 304 and response.content == b""
    weak = client.get(f"/api/album/{album.pk}", HTTP_IF_NONE_MATCH=f"W/{etag}")  # as gzip leaves it
    assert weak.status_code == 304
    assert client.get(f"/api/album/{album.pk}", HTTP_IF_NONE_MATCH='"other"').status_code == 200


def test_cached_responses_cost_no_query(client, album, django_assert_num_queries):
    client.get("/api/song/list")
    with django_assert_num_queries(0):
        assert client.get("/api/song/list").status_code == 200


def test_a_catalog_change_retires_cached_responses(client, album, django_capture_on_commit_callbacks):
    from library.services import song_save

    song = album.songs.get(track_number=1)
    before = client.get(f"/api/song/{song.pk}")
    song.name = "Renamed"
    with django_capture_on_commit_callbacks(execute=True):
        song_save(song=song)
    after = client.get(f"/api/song/{song.pk}")
    assert after.json()["song"]["name"] == "Renamed"
    assert after["ETag"] != before["ETag"]
    assert client.get(f"/api/song/{song.pk}", HTTP_IF_NONE_MATCH=before["ETag"]).status_code == 200
