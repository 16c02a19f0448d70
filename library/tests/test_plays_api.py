"""POST/GET /api/recently-played."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import UserSettings
from library.models import Play
from tests.factories import SongFactory

pytestmark = pytest.mark.django_db
ITEM_KEYS = {"id", "song", "playedAt", "playDuration", "skipped", "contextType", "contextId"}


@pytest.fixture
def song(db):
    return SongFactory(duration=200.0)


def play(client, **body):
    return client.post("/api/recently-played", body, format="json")


def test_a_play_is_recorded(owner_api, owner, song):
    response = play(
        owner_api, songId=song.pk, playDuration=180.5, skipped=False, contextType="album", contextId=song.album_id
    )
    assert response.status_code == 201
    item = response.json()["item"]
    assert set(item) == ITEM_KEYS
    assert (item["song"]["id"], item["playDuration"], item["contextType"], item["contextId"]) == (
        song.pk,
        180.5,
        "album",
        song.album_id,
    )
    stored = Play.objects.get()
    assert (stored.user, stored.is_private) == (owner, False)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"songId": "aaaaaaaaaaaaaaaaaaaaaaaa", "playDuration": 1}, "songId"),
        ({"songId": "nope", "playDuration": 1}, "songId"),
        ({"songId": None, "playDuration": 1}, "songId"),
        ({"playDuration": -1}, "playDuration"),
        ({"playDuration": 205.1}, "playDuration"),
        ({"playDuration": 1, "contextType": "radio"}, "contextType"),
        ({"playDuration": 1, "contextType": "album", "contextId": "aaaaaaaaaaaaaaaaaaaaaaaa"}, "contextId"),
        ({"playDuration": 1, "contextType": "album"}, "contextId"),
        ({"playDuration": 1, "contextType": "artist", "contextId": "aaaaaaaaaaaaaaaaaaaaaaaa"}, "contextId"),
        ({"playDuration": 1, "contextType": "other", "contextId": "something"}, "contextId"),
        ({"playDuration": 1, "contextType": "search", "contextId": "x" * 201}, "contextId"),
        ({"playDuration": 1, "contextType": "playlist", "contextId": "aaaaaaaaaaaaaaaaaaaaaaaa"}, "contextId"),
    ],
)
def test_invalid_plays_are_refused_and_recorded_nowhere(owner_api, song, body, field):
    response = play(owner_api, **{"songId": song.pk, **body})
    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert not Play.objects.exists()


def test_play_duration_may_run_a_little_past_the_song(owner_api, song):
    assert play(owner_api, songId=song.pk, playDuration=205).status_code == 201


@pytest.mark.parametrize(("context_type", "context_id"), [("artist", None), ("search", "beatl"), ("other", None)])
def test_other_contexts(owner_api, song, context_type, context_id):
    context_id = song.artist_id if context_type == "artist" else context_id
    response = play(owner_api, songId=song.pk, playDuration=10, contextType=context_type, contextId=context_id)
    assert response.status_code == 201, response.content
    assert response.json()["item"]["contextId"] == context_id


def test_private_session_plays_are_marked_private_but_stay_in_history(owner_api, owner, song):
    UserSettings.objects.create(user=owner, private_session=True)
    play(owner_api, songId=song.pk, playDuration=10)
    assert Play.objects.get().is_private is True
    assert [i["song"]["id"] for i in owner_api.get("/api/recently-played").json()["items"]] == [song.pk]


def test_history_is_newest_first_and_only_mine(owner_api, owner, stranger, song):
    now = timezone.now()
    mine = [
        Play.objects.create(user=owner, song=song, play_duration=1, played_at=now - timedelta(minutes=m))
        for m in range(3)
    ]
    Play.objects.create(user=stranger, song=song, play_duration=1)
    items = owner_api.get("/api/recently-played").json()["items"]
    assert [i["id"] for i in items] == [p.pk for p in mine]


def test_history_pages_stay_stable_while_new_plays_arrive(owner_api, owner, song):
    now = timezone.now()
    older = [
        Play.objects.create(user=owner, song=song, play_duration=1, played_at=now - timedelta(minutes=m))
        for m in range(1, 8)
    ]
    first = owner_api.get("/api/recently-played", {"limit": 3}).json()
    for _ in range(4):
        play(owner_api, songId=song.pk, playDuration=5)  # listening goes on while the app pages
    seen, cursor = [i["id"] for i in first["items"]], first["nextCursor"]
    while cursor:
        page = owner_api.get("/api/recently-played", {"limit": 3, "cursor": cursor}).json()
        seen += [i["id"] for i in page["items"]]
        cursor = page["nextCursor"]
    assert seen == [p.pk for p in older]


def test_history_query_count_is_constant(owner_api, owner, django_assert_num_queries):
    for song in SongFactory.create_batch(12):
        Play.objects.create(user=owner, song=song, play_duration=1)
    first = owner_api.get("/api/recently-played", {"limit": 5}).json()
    with django_assert_num_queries(1):  # one page of plays with their songs (the token's user is cached)
        owner_api.get("/api/recently-played", {"limit": 5, "cursor": first["nextCursor"]})


def test_first_page_is_cached_until_the_next_play(
    owner_api, song, django_capture_on_commit_callbacks, django_assert_num_queries
):
    owner_api.get("/api/recently-played")
    with django_assert_num_queries(0):  # the token's user and the page: both cached
        assert owner_api.get("/api/recently-played").json()["items"] == []
    with django_capture_on_commit_callbacks(execute=True):
        play(owner_api, songId=song.pk, playDuration=3)
    assert len(owner_api.get("/api/recently-played").json()["items"]) == 1
