"""Search quality on the demo catalog (the one `make run` loads: 2,000 songs, 300 albums, 150
artists, 24 public playlists), through the public API and the PostgreSQL engine."""

import io

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from search.tests import relevance

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module", autouse=True)
def demo_catalog(django_db_setup, django_db_blocker, tmp_path_factory):
    """Loaded once for the module, inside a transaction rolled back at its end."""
    media_root = tmp_path_factory.mktemp("media")
    with django_db_blocker.unblock(), override_settings(MEDIA_ROOT=media_root), transaction.atomic():
        call_command("seed_demo", stdout=io.StringIO(), stderr=io.StringIO())
        yield
        transaction.set_rollback(True)


def search(api, q: str, kind: str = "all", limit: int = 5) -> dict:
    response = api.get("/api/search", {"q": q, "type": kind, "limit": limit})
    assert response.status_code == 200, response.json()
    assert response.json()["engine"] == "postgres"
    return response.json()["results"]


def names(results: list[dict]) -> list[str]:
    return [result["name"] for result in results]


def test_the_relevance_set_finds_what_a_listener_means(api):
    plural = {"song": "songs", "album": "albums", "artist": "artists", "playlist": "playlists"}
    by_kind, _, misses = relevance.score(lambda q, kind: search(api, q, kind)[plural[kind]])
    assert len(relevance.CASES) >= 60
    report = "\n".join(f"{name}: hit@1 {s.hit1}/{s.cases}, hit@5 {s.hit5}/{s.cases}" for name, s in by_kind.items())
    print(report)  # shown with -s; bench/search.py --relevance prints the whole table
    for kind, score in by_kind.items():
        assert score.hit5 == score.cases, (kind, [(c.query, rank) for c, rank in misses if c.kind == kind])
        assert score.hit1 >= 0.9 * score.cases, (kind, [(c.query, rank) for c, rank in misses if c.kind == kind])


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("beatl", "The Beatles"),
        ("beatels", "The Beatles"),
        ("beyonce", "Beyoncé"),
        ("Beyoncé", "Beyoncé"),
        ("BEYONCE", "Beyoncé"),
        ("motorhead", "Motörhead"),
        ("Motörhead", "Motörhead"),
    ],
)
def test_the_examples_of_the_api_come_first(api, query, expected):
    assert names(search(api, query, "artist")["artists"])[0] == expected


def test_a_song_is_found_by_its_artists_name(api):
    songs = search(api, "beatles", "song", limit=10)["songs"]
    assert len(songs) == 10 and {song["artist"]["name"] for song in songs} == {"The Beatles"}


def test_a_song_is_found_by_its_albums_name_and_a_word_of_its_title(api):
    assert names(search(api, "winter & wire where the garden", "song")["songs"])[0] == "Where the Garden Ends"


def test_words_may_come_in_any_order(api):
    assert names(search(api, "machines midnight the", "artist")["artists"])[0] == "The Midnight Machines"
    assert names(search(api, "ends where garden the", "song")["songs"])[0] == "Where the Garden Ends"


def test_one_search_answers_every_kind_at_once(api):
    results = search(api, "beyonce", limit=3)
    assert names(results["artists"]) == ["Beyoncé"]
    assert all(song["artist"]["name"] == "Beyoncé" or "feat. Beyoncé" in song["name"] for song in results["songs"])
    assert "Queen B" in names(results["playlists"])  # its description names her
    assert len(results["albums"]) == 2


def test_a_search_costs_the_same_few_queries_whatever_it_finds(api, django_assert_num_queries):
    # The engine's transaction (a savepoint here, inside the test's): its similarity thresholds,
    # then the ranked ids of every kind; then one query per kind to build the results, and two
    # more for the playlists' collaborators and song ids.
    with django_assert_num_queries(10):
        search(api, "night", limit=20)


def test_an_answer_is_cached_per_query_and_only_the_objects_are_built_again(api):
    first = search(api, "Cafe Classics", "playlist")
    with CaptureQueriesContext(connection) as queries:
        assert search(api, "cafe CLASSICS", "playlist") == first  # ASCII case folded: one entry
    assert queries.captured_queries and not any("search_searchdocument" in q["sql"] for q in queries.captured_queries)
