"""GET /api/search and /api/search/recent with the PostgreSQL engine: input checked, documents
kept in step with every kind of write (service, admin, cascade), private playlists never shown,
answers cached until something changes, recent searches remembered."""

import pytest
from django.urls import reverse

from library.models import Artist, Song
from library.services import catalog
from search.models import MAX_RECENT, RecentSearch, SearchDocument
from search.services import reindex
from tests.factories import AlbumFactory, ArtistFactory, PlaylistFactory, SongFactory, UserFactory
from tests.support.admin import change_form_data
from tests.support.auth import auth_client

pytestmark = pytest.mark.django_db


def found(api, q: str, kind: str, **params) -> list[str]:
    response = api.get("/api/search", {"q": q, "type": kind, **params})
    assert response.status_code == 200, response.json()
    return [result["name"] for result in response.json()["results"][f"{kind}s"]]


@pytest.fixture
def catalog_rows():
    """A small catalog, made by factories (which skip the services) and then indexed."""
    sigur = ArtistFactory(name="Sigur Ros")
    album = AlbumFactory(name="Takk", artist=sigur)
    SongFactory(name="Hoppipolla", album=album)
    SongFactory(name="Glósóli", album=album)
    reindex()
    return sigur


# --- input --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({}, "q"),
        ({"q": ""}, "q"),
        ({"q": "   "}, "q"),
        ({"q": "x" * 101}, "q"),
        ({"q": "a\x00b"}, "q"),
        ({"q": "abba", "type": "podcast"}, "type"),
        ({"q": "abba", "limit": "0"}, "limit"),
        ({"q": "abba", "limit": "51"}, "limit"),
        ({"q": "abba", "limit": "ten"}, "limit"),
        ({"q": "abba", "limit": ""}, "limit"),
        ({"q": "abba", "type": ""}, "type"),
    ],
)
def test_bad_parameters_are_a_400_in_the_envelope_and_nothing_is_remembered(owner_api, params, field):
    response = owner_api.get("/api/search", params)
    assert response.status_code == 400
    body = response.json()
    assert body["success"] is False and field in body["errors"]
    assert not RecentSearch.objects.exists()


def test_a_query_of_100_characters_is_fine(api):
    assert api.get("/api/search", {"q": "x" * 100}).status_code == 200


def test_the_answer_has_every_kind_by_default_and_only_the_one_asked_for_otherwise(api, catalog_rows):
    everything = api.get("/api/search", {"q": "takk"}).json()
    assert everything["engine"] == "postgres"
    assert set(everything["results"]) == {"songs", "albums", "artists", "playlists"}
    assert [a["name"] for a in everything["results"]["albums"]] == ["Takk"]
    only = api.get("/api/search", {"q": "takk", "type": "album"}).json()
    assert set(only["results"]) == {"albums"}
    plural = api.get("/api/search", {"q": "takk", "type": "albums"}).json()
    assert plural["results"] == only["results"]


def test_results_have_the_catalogs_own_shapes(api, catalog_rows):
    song = api.get("/api/search", {"q": "hoppipolla", "type": "song"}).json()["results"]["songs"][0]
    detail = api.get(f"/api/song/{song['id']}").json()["song"]
    assert song == detail


def test_limit_caps_each_kind(api):
    album = AlbumFactory(name="Ocean")
    for n in range(8):
        SongFactory(name=f"Ocean {n}", album=album)
    reindex()
    assert len(found(api, "ocean", "song", limit=3)) == 3
    assert len(found(api, "ocean", "song")) == 8


# --- quality with small data --------------------------------------------------------------


def test_accents_do_not_matter_either_way(api, catalog_rows):
    assert found(api, "Sigur Rós", "artist") == ["Sigur Ros"]  # an accent the name lacks
    assert found(api, "glosoli", "song") == ["Glósóli"]  # an accent the query lacks


def test_exact_and_prefix_matches_of_the_name_come_before_fuzzy_ones_and_popularity_breaks_ties(api):
    ArtistFactory(name="Nightwish")
    ArtistFactory(name="Night")
    ArtistFactory(name="Late Night Alumni")
    ArtistFactory(name="Nighy")
    reindex()
    assert found(api, "night", "artist") == ["Night", "Nightwish", "Late Night Alumni", "Nighy"]


def test_nothing_found_is_an_empty_list_not_an_error(api, catalog_rows):
    response = api.get("/api/search", {"q": "zzzzqqqq"})
    assert response.status_code == 200
    assert response.json()["results"] == {"songs": [], "albums": [], "artists": [], "playlists": []}


@pytest.mark.parametrize("q", ["%", "_", "'", "\\", "a:*", "!(", "&|", "'; DROP TABLE x; --", "ü" * 100, "🎵"])
def test_characters_that_mean_something_to_sql_or_tsquery_are_just_text(api, catalog_rows, q):
    assert api.get("/api/search", {"q": q}).status_code == 200


# --- private playlists --------------------------------------------------------------------


def test_private_playlists_are_never_found_not_even_by_their_owner(api, owner, owner_api):
    PlaylistFactory(owner=owner, name="Secret Mixtape", is_public=False)
    PlaylistFactory(owner=owner, name="Public Mixtape", is_public=True)
    reindex()
    assert found(owner_api, "mixtape", "playlist") == ["Public Mixtape"]
    assert found(api, "mixtape", "playlist") == ["Public Mixtape"]
    assert not SearchDocument.objects.filter(name="Secret Mixtape").exists()


def test_a_playlist_turning_private_is_no_longer_found(call, api, owner, owner_api):
    created = call(owner_api, "post", "/api/playlist", {"name": "Road Trip", "isPublic": True}).json()["playlist"]
    assert found(api, "road trip", "playlist") == ["Road Trip"]
    call(owner_api, "patch", f"/api/playlist/{created['id']}", {"isPublic": False})
    assert found(api, "road trip", "playlist") == []
    call(owner_api, "patch", f"/api/playlist/{created['id']}", {"isPublic": True, "name": "Road Trip 2"})
    assert found(api, "road trip", "playlist") == ["Road Trip 2"]


def test_a_deleted_playlist_and_those_of_a_deleted_user_are_gone(call, api, owner, owner_api):
    first = call(owner_api, "post", "/api/playlist", {"name": "Gone Soon", "isPublic": True}).json()["playlist"]
    call(owner_api, "post", "/api/playlist", {"name": "Gone Later", "isPublic": True})
    call(owner_api, "delete", f"/api/playlist/{first['id']}")
    assert found(api, "gone", "playlist") == ["Gone Later"]
    owner.delete()  # staff delete a user: their playlists go by cascade
    assert not SearchDocument.objects.filter(kind="playlist").exists()


# --- the catalog changing -----------------------------------------------------------------


def test_renaming_an_artist_renames_what_finds_its_songs_and_albums(
    api, catalog_rows, django_capture_on_commit_callbacks
):
    assert sorted(found(api, "sigur", "song")) == ["Glósóli", "Hoppipolla"]
    with django_capture_on_commit_callbacks(execute=True):
        catalog_rows.name = "Jonsi"
        catalog.artist_save(artist=catalog_rows)
    assert found(api, "sigur", "song") == []
    assert sorted(found(api, "jonsi", "song")) == ["Glósóli", "Hoppipolla"]
    assert found(api, "jonsi", "album") == ["Takk"]


def test_a_deleted_artist_is_gone_and_its_name_finds_its_former_songs_no_more(
    api, catalog_rows, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        catalog.catalog_delete(queryset=Artist.objects.filter(pk=catalog_rows.pk))
    assert found(api, "sigur", "artist") == [] and found(api, "sigur", "song") == []
    assert found(api, "hoppipolla", "song") == ["Hoppipolla"]  # songs stay, without an artist


def test_deleted_songs_are_gone(api, catalog_rows, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        catalog.catalog_delete(queryset=Song.objects.filter(name="Hoppipolla"))
    assert found(api, "takk", "song") == ["Glósóli"]
    assert not SearchDocument.objects.filter(name="Hoppipolla").exists()


def test_staff_edits_in_the_admin_reach_search(client, api, catalog_rows, django_capture_on_commit_callbacks):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    url = reverse("admin:library_artist_change", args=[catalog_rows.pk])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, change_form_data(client, url, name="Sigur Rós"))
    assert response.status_code == 302
    assert found(api, "rós", "artist") == ["Sigur Rós"]


def test_an_answer_is_cached_until_the_catalog_changes(
    api, catalog_rows, django_assert_num_queries, django_capture_on_commit_callbacks
):
    assert found(api, "takk", "album") == ["Takk"]
    with django_assert_num_queries(0):
        assert found(api, "TAKK ", "album") == ["Takk"]
    album = catalog_rows.albums.get()
    album.name = "Takk..."
    with django_capture_on_commit_callbacks(execute=True):
        catalog.album_save(album=album)
    assert found(api, "takk", "album") == ["Takk..."]


def test_edits_search_does_not_show_keep_the_cached_answers(
    call, api, owner_api, catalog_rows, django_assert_num_queries
):
    private = call(owner_api, "post", "/api/playlist", {"name": "Diary", "isPublic": False}).json()["playlist"]
    assert found(api, "takk", "album") == ["Takk"]
    song = catalog_rows.songs.first()
    call(owner_api, "post", f"/api/playlist/{private['id']}/songs", {"songId": song.pk})
    call(owner_api, "patch", f"/api/playlist/{private['id']}", {"name": "Diary 2"})
    with django_assert_num_queries(0):
        assert found(api, "takk", "album") == ["Takk"]


# --- recent searches ----------------------------------------------------------------------


def recent(client) -> list[str]:
    response = client.get("/api/search/recent")
    assert response.status_code == 200
    return [row["query"] for row in response.json()["searches"]]


def test_a_signed_in_users_searches_are_remembered_newest_first_once_whatever_the_case(owner_api):
    for q in ["Beatles", "motorhead", "  beatles  ", "Abba"]:
        owner_api.get("/api/search", {"q": q})
    assert recent(owner_api) == ["Abba", "beatles", "motorhead"]
    row = owner_api.get("/api/search/recent").json()["searches"][0]
    assert set(row) == {"query", "createdAt"}


def test_only_the_last_twenty_are_kept(owner_api, owner):
    for n in range(MAX_RECENT + 5):
        owner_api.get("/api/search", {"q": f"query {n}"})
    kept = recent(owner_api)
    assert len(kept) == MAX_RECENT and kept[0] == f"query {MAX_RECENT + 4}" and kept[-1] == "query 5"
    assert RecentSearch.objects.filter(user=owner).count() == MAX_RECENT


def test_recent_searches_are_each_users_own_and_clearing_them_clears_only_mine(owner_api, stranger):
    stranger_api = auth_client(stranger)
    owner_api.get("/api/search", {"q": "mine"})
    stranger_api.get("/api/search", {"q": "theirs"})
    assert recent(owner_api) == ["mine"]
    response = owner_api.delete("/api/search/recent")
    assert response.status_code == 200 and response.json()["message"]
    assert recent(owner_api) == [] and recent(stranger_api) == ["theirs"]


def test_anonymous_searches_are_not_remembered_and_recent_needs_a_sign_in(api):
    api.get("/api/search", {"q": "anyone"})
    assert not RecentSearch.objects.exists()
    assert api.get("/api/search/recent").status_code == 401
    assert api.delete("/api/search/recent").status_code == 401


def test_a_bad_token_on_the_public_search_is_refused_not_ignored(api):
    api.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")
    assert api.get("/api/search", {"q": "abba"}).status_code == 401
