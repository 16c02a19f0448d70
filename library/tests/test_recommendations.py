"""compute_recommendations and GET /api/recommendations (method: docs/RECOMMENDATIONS.md)."""

import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from library import recommend
from library.models import LikedAlbum, LikedSong, Play, Recommendation
from library.services import listening
from tests.factories import AlbumFactory, SongFactory, UserFactory
from tests.support.auth import auth_client
from tests.support.concurrency import at_once

pytestmark = pytest.mark.django_db


def played(user, songs, *, days_ago=20, **fields):
    for song in songs:
        Play.objects.create(
            user=user, song=song, play_duration=100, played_at=timezone.now() - timedelta(days=days_ago), **fields
        )


def picks(user) -> list[tuple[str, str]]:
    return list(Recommendation.objects.for_user(user).values_list("song_id", "reason"))


@pytest.fixture
def songs(db):
    return SongFactory.create_batch(6)


def test_co_listeners_songs_come_first(songs):
    me, twin, stranger = UserFactory.create_batch(3)
    played(me, songs[:2])
    played(twin, songs[:3])  # shares two songs with me, also played songs[2]
    played(stranger, [songs[0], songs[4]])  # shares one, also played songs[4]
    listening.recommendations_compute(user_ids=[me.pk])
    assert picks(me)[:2] == [(songs[2].pk, "co_listening"), (songs[4].pk, "co_listening")]


def test_songs_by_the_artists_of_liked_albums(songs):
    me = UserFactory()
    album = AlbumFactory()
    by_artist = SongFactory(album=None, artist=album.artist)
    LikedAlbum.objects.create(user=me, album=album)
    listening.recommendations_compute(user_ids=[me.pk])
    assert (by_artist.pk, "liked_artist") in picks(me)


def test_never_recommends_what_was_just_played_or_is_liked(songs):
    me, twin = UserFactory.create_batch(2)
    played(me, songs[:1])
    played(me, songs[1:2], days_ago=1, is_private=True)  # just played, in a private session
    LikedSong.objects.create(user=me, song=songs[2])
    played(twin, songs[:4])
    listening.recommendations_compute(user_ids=[me.pk])
    chosen = {song_id for song_id, _ in picks(me)}
    assert songs[3].pk in chosen
    assert not chosen & {songs[1].pk, songs[2].pk}


def test_taste_is_the_last_songs_played_so_an_old_one_brings_no_neighbours(owner):
    taste = SongFactory.create_batch(recommend.TASTE_SONGS + 1)  # one more than is kept
    forgotten_pick, remembered_pick = SongFactory(), SongFactory()
    for days_ago, song in zip(range(len(taste), 0, -1), taste, strict=True):  # taste[0]: the oldest play
        played(owner, [song], days_ago=days_ago)
    old_friend, new_friend = UserFactory(), UserFactory()
    played(old_friend, [taste[0], forgotten_pick])
    played(new_friend, [taste[-1], remembered_pick])

    listening.recommendations_compute(user_ids=[owner.pk])

    reasons = dict(picks(owner))
    assert reasons[remembered_pick.pk] == "co_listening"
    assert reasons.get(forgotten_pick.pk) != "co_listening"  # it came only through the oldest song


def test_a_neighbour_brings_only_the_last_songs_they_played(owner):
    shared = SongFactory()
    played(owner, [shared])
    neighbour = UserFactory()
    # One more than is kept; theirs[0], the oldest play, has the smallest id, which ranks first
    # among equal scores: only the cut can keep it out.
    theirs = SongFactory.create_batch(recommend.NEIGHBOUR_SONGS + 1)
    now = timezone.now()
    for hours_ago, song in zip(range(len(theirs) + 1, 1, -1), theirs, strict=True):
        Play.objects.create(user=neighbour, song=song, play_duration=100, played_at=now - timedelta(hours=hours_ago))
    played(neighbour, [shared], days_ago=0)

    listening.recommendations_compute(user_ids=[owner.pk])

    reasons = dict(picks(owner))
    assert list(reasons.values()).count("co_listening") == recommend.LIMIT
    assert reasons.get(theirs[0].pk) != "co_listening"


def test_private_plays_do_not_feed_recommendations(songs):
    me, twin = UserFactory.create_batch(2)
    played(me, songs[:2])
    played(twin, songs[:3], is_private=True)
    listening.recommendations_compute(user_ids=[me.pk])
    assert all(reason != "co_listening" for _, reason in picks(me))


def test_a_new_user_gets_popular_songs(songs, django_capture_on_commit_callbacks):
    fans = UserFactory.create_batch(3)
    for n, fan in enumerate(fans):
        played(fan, songs[: n + 1], days_ago=2)  # songs[0] most played, then songs[1]...
    with django_capture_on_commit_callbacks(execute=True):
        listening.popular_refresh()
    newcomer = UserFactory()
    listening.recommendations_compute(user_ids=[newcomer.pk])
    chosen = picks(newcomer)
    assert chosen[:3] == [(songs[0].pk, "popular"), (songs[1].pk, "popular"), (songs[2].pk, "popular")]


def test_with_nothing_popular_yet_new_songs_fill_in(songs):
    newcomer = UserFactory()
    listening.recommendations_compute(user_ids=[newcomer.pk])
    assert len(picks(newcomer)) == len(songs)


def test_command_covers_every_user_and_is_safe_to_rerun(songs):
    users = UserFactory.create_batch(5)
    played(users[0], songs[:2])
    played(users[1], songs[:4])
    call_command("compute_recommendations", batch_size=2, stdout=io.StringIO(), stderr=io.StringIO())
    first = {u.pk: picks(u) for u in users}
    assert all(first.values())
    call_command("compute_recommendations", batch_size=2, stdout=io.StringIO(), stderr=io.StringIO())
    assert {u.pk: picks(u) for u in users} == first


def test_endpoint_computes_on_demand_when_missing(songs, owner, owner_api):
    assert not Recommendation.objects.filter(user=owner).exists()
    response = owner_api.get("/api/recommendations")
    assert response.status_code == 200
    assert len(response.json()["songs"]) == len(songs)
    assert Recommendation.objects.filter(user=owner).exists()


def test_endpoint_recomputes_stale_recommendations(songs, owner, owner_api, settings):
    listening.recommendations_compute(user_ids=[owner.pk])
    Recommendation.objects.filter(user=owner).update(generated_at=timezone.now() - timedelta(hours=25))
    owner_api.get("/api/recommendations")
    assert Recommendation.objects.filter(user=owner, generated_at__lt=timezone.now() - timedelta(hours=1)).count() == 0


def test_endpoint_drops_a_pick_as_soon_as_it_is_liked(songs, owner, owner_api, django_capture_on_commit_callbacks):
    first = owner_api.get("/api/recommendations").json()["songs"][0]["id"]
    with django_capture_on_commit_callbacks(execute=True):
        owner_api.put(f"/api/library/songs/{first}")
    assert first not in [s["id"] for s in owner_api.get("/api/recommendations").json()["songs"]]


def test_a_warm_read_asks_the_database_nothing(songs, owner_api, django_assert_num_queries):
    first = owner_api.get("/api/recommendations").json()["songs"]  # computes and caches
    with django_assert_num_queries(0):  # not even whether the stored picks went stale
        assert owner_api.get("/api/recommendations").json()["songs"] == first


def test_endpoint_shape_and_limit(songs, owner_api):
    body = owner_api.get("/api/recommendations", {"limit": 2}).json()
    assert set(body) == {"success", "songs"} and len(body["songs"]) == 2
    assert "trackNumber" in body["songs"][0]


def test_each_user_gets_their_own(songs, owner, stranger):
    played(owner, songs[:2])
    played(stranger, songs[:3])
    auth_client(owner).get("/api/recommendations")
    assert not Recommendation.objects.filter(user=stranger).exists()


def test_nightly_run_recomputes_only_users_whose_taste_moved(songs):
    quiet, listener, liker, newcomer = UserFactory.create_batch(4)
    for user in (quiet, listener, liker):
        listening.recommendations_compute(user_ids=[user.pk])
    Recommendation.objects.update(generated_at=timezone.now() - timedelta(days=1))
    hour_ago = timezone.now() - timedelta(hours=1)  # (inside this test's transaction, SQL now() is its start)
    played(quiet, songs[:1], days_ago=3)  # before its recommendations: nothing new
    Play.objects.create(user=quiet, song=songs[1], play_duration=100, played_at=hour_ago, is_private=True)
    Play.objects.create(user=listener, song=songs[0], play_duration=100, played_at=hour_ago)
    LikedSong.objects.create(user=liker, song=songs[2], created_at=hour_ago)
    Play.objects.create(user=newcomer, song=songs[0], play_duration=100, played_at=hour_ago)  # never had any
    since = timezone.now() - timedelta(days=7)
    assert set(recommend.users_with_new_activity(since)) == {listener.pk, liker.pk, newcomer.pk}
    assert listening.recommendations_refresh_changed(since=since)[0] == 3
    assert recommend.users_with_new_activity(since) == []  # up to date now
    assert Recommendation.objects.filter(user=quiet, generated_at__gt=timezone.now() - timedelta(hours=1)).count() == 0


def test_command_with_changed_does_what_the_nightly_job_does(songs):
    listener = UserFactory()
    played(listener, songs[:1], days_ago=0)
    out = io.StringIO()
    call_command("compute_recommendations", changed=True, stdout=out, stderr=io.StringIO())
    assert "for 1 user(s)" in out.getvalue() and picks(listener)


@pytest.mark.django_db(transaction=True)
def test_two_computations_of_one_users_picks_at_once_both_succeed_without_duplicates():
    # Found by `make bench`: concurrent GET /api/recommendations of a new user were 500s
    # (both inserted the same picks). Now the second waits for the first, then replaces them.
    user = UserFactory()
    SongFactory.create_batch(8)

    assert at_once(lambda: recommend.compute_for([user.pk]), threads=3) == []
    picks = list(Recommendation.objects.filter(user=user).values_list("song_id", flat=True))
    assert picks and len(picks) == len(set(picks))
