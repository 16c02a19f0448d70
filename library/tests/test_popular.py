"""The popular-songs materialized view, refresh_popular, and GET /api/song/popular."""

import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from library.models import Play, PopularSong
from tests.factories import SongFactory, UserFactory

pytestmark = pytest.mark.django_db


def plays(song, listeners, *, days_ago=1, duration=100, **fields):
    for user in listeners:
        Play.objects.create(
            user=user,
            song=song,
            play_duration=duration,
            played_at=timezone.now() - timedelta(days=days_ago),
            **fields,
        )


def refresh(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        call_command("refresh_popular", stdout=io.StringIO())


def test_view_counts_the_last_30_days_of_public_unskipped_plays(django_capture_on_commit_callbacks):
    hit, old, private, skipped = SongFactory.create_batch(4)
    a, b, c = UserFactory.create_batch(3)
    plays(hit, [a, b, c, a], duration=120)
    plays(old, [a, b], days_ago=31)
    plays(private, [a, b], is_private=True)
    plays(skipped, [a, b], skipped=True)
    refresh(django_capture_on_commit_callbacks)
    rows = {row.song_id: row for row in PopularSong.objects.all()}
    assert set(rows) == {hit.pk}
    assert (rows[hit.pk].play_count, rows[hit.pk].unique_listeners, rows[hit.pk].avg_play_duration) == (4, 3, 120)


def test_view_is_empty_until_refreshed(django_capture_on_commit_callbacks):
    plays(SongFactory(), [UserFactory()])
    assert not PopularSong.objects.exists()
    refresh(django_capture_on_commit_callbacks)
    assert PopularSong.objects.count() == 1


def test_popular_endpoint_orders_by_plays_and_is_public(client, django_capture_on_commit_callbacks):
    first, second = SongFactory.create_batch(2)
    listeners = UserFactory.create_batch(3)
    plays(first, listeners)
    plays(second, listeners[:1])
    refresh(django_capture_on_commit_callbacks)
    response = client.get("/api/song/popular")
    assert response.status_code == 200
    assert [s["id"] for s in response.json()["songs"]] == [first.pk, second.pk]
    assert response["Cache-Control"] == "public, max-age=60"
    assert [s["id"] for s in client.get("/api/song/popular", {"limit": 1}).json()["songs"]] == [first.pk]


def test_popular_endpoint_is_cached_until_the_next_refresh(
    client, django_capture_on_commit_callbacks, django_assert_num_queries
):
    song = SongFactory()
    refresh(django_capture_on_commit_callbacks)
    assert client.get("/api/song/popular").json()["songs"] == []
    plays(song, [UserFactory()])
    with django_assert_num_queries(0):
        assert client.get("/api/song/popular").json()["songs"] == []
    refresh(django_capture_on_commit_callbacks)
    assert [s["id"] for s in client.get("/api/song/popular").json()["songs"]] == [song.pk]
