"""GET /api/search and /api/search/recent with the PostgreSQL engine: input checked, documents
kept in step with every kind of write (service, admin, cascade), private playlists never shown,
answers cached until something changes, recent searches remembered."""

import pytest
from django.urls import reverse

from library.models import Artist, Song
from library.services import catalog
from musicapp.platform import scoped_cache
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


def test_a_query_of_100_characters_is_fine_and_composed_accents_count_once(api):
    assert api.get("/api/search", {"q": "x" * 100}).status_code == 200
    assert api.get("/api/search", {"q": "e\u0301" * 100}).status_code == 200  # 100 "é", typed decomposed


def test_a_nul_is_refused_with_one_message(api):
    assert len(api.get("/api/search", {"q": "a\x00b"}).json()["errors"]["q"]) == 1


@pytest.mark.parametrize("limit", ["010", " 5", "5 ", "5.0", "\uff15", "\u0665", "+5", "1e1"])
def test_limit_is_ascii_digits_only(api, limit):
    assert api.get("/api/search", {"q": "abba", "limit": limit}).status_code == 400


def test_a_head_request_remembers_nothing(owner_api):
    owner_api.head("/api/search", {"q": "abba"})
    assert not RecentSearch.objects.exists()


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


def test_punctuation_inside_names_separates_words(api):
    ArtistFactory(name="AC/DC")
    ArtistFactory(name="Blink-182")
    ArtistFactory(name="will.i.am")
    reindex()
    assert found(api, "ac dc", "artist") == ["AC/DC"]
    assert found(api, "182", "artist") == ["Blink-182"]
    assert found(api, "will i am", "artist") == ["will.i.am"]
    assert found(api, "ac/dc", "artist") == ["AC/DC"]


def test_a_name_stored_with_decomposed_accents_is_found_unaccented(api):
    ArtistFactory(name="Beyonce\u0301")  # e + a combining acute, as some tools write it
    reindex()
    assert found(api, "beyonce", "artist") == ["Beyonce\u0301"]
    assert found(api, "Beyoncé", "artist") == ["Beyonce\u0301"]


def test_a_query_the_engine_reads_differently_never_gets_anothers_cached_answer(api):
    ArtistFactory(name="Motörhead")
    reindex()
    circled = api.get("/api/search", {"q": "ⓜⓞⓣⓞⓡⓗⓔⓐⓓ", "type": "artist"}).json()["results"]["artists"]
    assert circled == []
    assert found(api, "motorhead", "artist") == ["Motörhead"]
    assert found(api, "MOTORHEAD", "artist") == ["Motörhead"]


def test_new_catalog_words_are_corrected_to_at_once_and_words_gone_leave_the_vocabulary(
    api, django_capture_on_commit_callbacks
):
    from search import services
    from search.models import SearchWord

    artist = ArtistFactory(name="Zanzibar")
    with django_capture_on_commit_callbacks(execute=True):
        catalog.artist_save(artist=artist)  # a write through the service
    assert found(api, "zanzibra", "artist") == ["Zanzibar"]  # a typo, corrected
    with django_capture_on_commit_callbacks(execute=True):
        catalog.catalog_delete(queryset=Artist.objects.filter(pk=artist.pk))
    assert SearchWord.objects.filter(word="zanzibar").exists()  # until the words are counted again
    services.vocabulary_rebuild()  # the hourly search.vocabulary job
    assert not SearchWord.objects.filter(word="zanzibar").exists()


def test_playlists_words_never_enter_the_vocabulary(owner_api, call, api):
    from search.models import SearchWord

    call(owner_api, "post", "/api/playlist", {"name": "Plover Mixtape", "desc": "quuxbeatles", "isPublic": True})
    reindex()
    assert not SearchWord.objects.filter(word__in=["plover", "mixtape", "quuxbeatles"]).exists()
    assert found(api, "plover", "playlist") == ["Plover Mixtape"]  # still found by its words


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


def test_an_answer_is_cached_until_the_catalog_changes(api, catalog_rows, django_capture_on_commit_callbacks):
    assert found(api, "takk", "album") == ["Takk"]
    album = catalog_rows.albums.get()
    album.name = "Takk..."
    with django_capture_on_commit_callbacks(execute=True):
        catalog.album_save(album=album)
    assert found(api, "takk", "album") == ["Takk..."]


def test_edits_search_does_not_show_keep_the_cached_answers(call, api, owner_api, catalog_rows):
    private = call(owner_api, "post", "/api/playlist", {"name": "Diary", "isPublic": False}).json()["playlist"]
    assert found(api, "takk", "album") == ["Takk"]
    version = scoped_cache.version("search")
    song = catalog_rows.songs.first()
    call(owner_api, "post", f"/api/playlist/{private['id']}/songs", {"songId": song.pk})
    call(owner_api, "patch", f"/api/playlist/{private['id']}", {"name": "Diary 2"})
    assert scoped_cache.version("search") == version


def test_what_the_results_show_is_current_even_from_the_cache(api, catalog_rows, call, owner_api):
    playlist = call(owner_api, "post", "/api/playlist", {"name": "Takk Mix", "isPublic": True}).json()["playlist"]
    assert (
        api.get("/api/search", {"q": "takk mix", "type": "playlist"}).json()["results"]["playlists"][0]["songIds"] == []
    )
    call(owner_api, "post", f"/api/playlist/{playlist['id']}/songs", {"songId": catalog_rows.songs.first().pk})
    catalog_rows.bio = "Icelandic post-rock."
    catalog_rows.save()  # a bio is not searched: the cached ids stay, the objects are new
    results = api.get("/api/search", {"q": "takk mix", "type": "playlist"}).json()["results"]
    assert len(results["playlists"][0]["songIds"]) == 1
    artist = api.get("/api/search", {"q": "sigur ros", "type": "artist"}).json()["results"]["artists"][0]
    assert artist["bio"] == "Icelandic post-rock."


# --- recent searches ----------------------------------------------------------------------


def recent(client) -> list[str]:
    response = client.get("/api/search/recent")
    assert response.status_code == 200
    return [row["query"] for row in response.json()["searches"]]


def test_case_is_folded_as_postgresql_folds_it(owner_api):
    # Python's lower() ends "ΣΟΦΟΣ" with a final sigma, PostgreSQL's (which the unique index
    # uses) does not: the second search must still move the first to the top.
    for q in ["ΣΟΦΟΣ", "other", "σοφοσ"]:
        owner_api.get("/api/search", {"q": q})
    assert recent(owner_api) == ["σοφοσ", "other"]


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


@pytest.mark.django_db(transaction=True)
def test_concurrent_searches_of_one_user_never_drop_the_one_just_made():
    import threading

    from django.db import connection

    from search.services import recent_search_record

    user = UserFactory()
    for n in range(MAX_RECENT):
        recent_search_record(user=user, query=f"query {n}")
    for trial in range(8):
        oldest = RecentSearch.objects.filter(user=user).order_by("created_at", "id").first().query
        barrier = threading.Barrier(2)

        def search(query, barrier=barrier):
            barrier.wait()
            try:
                recent_search_record(user=user, query=query)
            finally:
                connection.close()

        threads = [threading.Thread(target=search, args=(q,)) for q in (oldest, f"new {trial}")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        kept = set(RecentSearch.objects.filter(user=user).values_list("query", flat=True))
        assert {oldest, f"new {trial}"} <= kept and len(kept) == MAX_RECENT
