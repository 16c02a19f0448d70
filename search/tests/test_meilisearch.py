"""The Meilisearch engine, through the official `meilisearch` client, against a fake of
Meilisearch's HTTP API (tests/support/fake_meilisearch.py, a real server on a loopback port):
Meilisearch itself cannot run on this machine. What these tests show is the app's side: what it
sends and when, that no change is lost when Meilisearch is down, that a slow or dead Meilisearch
costs a search nothing but the fallback to PostgreSQL, and that a reindex swaps a whole new
index in. The relevance of Meilisearch's own ranking is not tested here (the fake only follows
its documented rules)."""

import io
import logging

import pytest
from django.core.management import call_command
from django.utils import timezone
from procrastinate.contrib.django import app
from procrastinate.contrib.django.models import ProcrastinateJob
from prometheus_client import REGISTRY

from library.models import Play
from library.services import catalog
from library.services.listening import popular_refresh
from search import engines, queries
from search.apps import _documents_for_an_existing_catalog
from search.models import SearchChange, SearchDocument
from search.services import reindex
from tests.factories import AlbumFactory, ArtistFactory, PlaylistFactory, SongFactory, UserFactory
from tests.support.jobs import pending_jobs, run_pending_jobs

pytestmark = pytest.mark.django_db

SONGS = "musicapp_songs"
PLAYLISTS = "musicapp_playlists"


@pytest.fixture
def catalog_rows(meili):
    album = AlbumFactory(name="Takk", artist=ArtistFactory(name="Sigur Rós"))
    SongFactory(name="Hoppipolla", album=album)
    SongFactory(name="Glósóli", album=album)
    reindex()
    return album


def search(api, q: str, kind: str = "song") -> tuple[list[str], str]:
    response = api.get("/api/search", {"q": q, "type": kind})
    assert response.status_code == 200, response.json()
    body = response.json()
    return [r["name"] for r in body["results"][f"{kind}s"]], body["engine"]


def fallbacks() -> float:
    return REGISTRY.get_sample_value("musicapp_search_fallbacks_total") or 0.0


def requests_to(meili, path_part: str) -> int:
    return sum(path_part in path for _, path in meili.requests)


# --- answering -----------------------------------------------------------------------------


def test_with_meili_url_set_meilisearch_answers_and_the_answer_says_so(api, catalog_rows):
    assert search(api, "hoppi") == (["Hoppipolla"], "meilisearch")
    assert search(api, "hopipola") == (["Hoppipolla"], "meilisearch")  # two typos in a long word
    names, engine = search(api, "sigur ros")  # found by the artist's name, accents folded
    assert sorted(names) == ["Glósóli", "Hoppipolla"] and engine == "meilisearch"


def test_the_code_sets_each_indexs_searchable_filterable_and_ranking_attributes(meili, catalog_rows):
    for kind in engines.KINDS:
        settings = meili.indexes[f"musicapp_{kind}s"].settings
        assert settings["searchableAttributes"] == ["name", "context"]
        assert settings["filterableAttributes"] == ["id", "artistId"]
        assert settings["rankingRules"][-1] == "popularity:desc"
    assert meili.documents(SONGS)[catalog_rows.songs.get(name="Hoppipolla").pk]["context"] == "Sigur Rós Takk"


def test_the_index_prefix_setting_separates_two_apps_on_one_meilisearch(settings, meili, catalog_rows):
    settings.MEILI_INDEX_PREFIX = "staging_"
    reindex()
    assert "staging_songs" in meili.indexes and "musicapp_songs" in meili.indexes


# --- sync ----------------------------------------------------------------------------------


def test_changes_reach_meilisearch_after_commit_in_one_batch_by_a_job_not_during_the_request(
    meili, owner_api, django_capture_on_commit_callbacks
):
    reindex()
    before = len(meili.requests)
    with django_capture_on_commit_callbacks(execute=True):
        for name in ["Road Trip", "Night Drive", "Rainy Day"]:
            assert owner_api.post("/api/playlist", {"name": name, "isPublic": True}, format="json").status_code == 201
    assert len(meili.requests) == before  # the requests did not wait on Meilisearch
    assert [name for name, _ in pending_jobs()] == ["search.sync"]  # one job for the three
    run_pending_jobs()
    assert sorted(d["name"] for d in meili.documents(PLAYLISTS).values()) == ["Night Drive", "Rainy Day", "Road Trip"]
    assert requests_to(meili, f"/indexes/{PLAYLISTS}/documents") == 1
    assert not SearchChange.objects.exists()
    # The settings were read, found as stated (Meilisearch lists filterable attributes sorted),
    # and not sent again: a settings update makes Meilisearch reindex.
    assert not [path for method, path in meili.requests[before:] if method == "PATCH"]


def test_edits_deletes_and_a_playlist_turning_private_reach_meilisearch(
    call, meili, owner_api, catalog_rows, django_capture_on_commit_callbacks
):
    playlist = call(owner_api, "post", "/api/playlist", {"name": "Takk Mix", "isPublic": True}).json()["playlist"]
    assert [d["name"] for d in meili.documents(PLAYLISTS).values()] == ["Takk Mix"]
    call(owner_api, "patch", f"/api/playlist/{playlist['id']}", {"isPublic": False})
    assert meili.documents(PLAYLISTS) == {}

    song = catalog_rows.songs.get(name="Hoppipolla")
    song.name = "Hoppípolla (Live)"
    with django_capture_on_commit_callbacks(execute=True):
        catalog.song_save(song=song)
    run_pending_jobs()
    assert meili.documents(SONGS)[song.pk]["name"] == "Hoppípolla (Live)"

    with django_capture_on_commit_callbacks(execute=True):
        catalog.catalog_delete(queryset=catalog_rows.songs.filter(pk=song.pk))
    run_pending_jobs()
    assert song.pk not in meili.documents(SONGS)


def test_a_change_made_while_meilisearch_is_down_reaches_it_once_it_is_back(call, meili, owner_api):
    reindex()
    meili.stop()
    with pytest.raises(Exception, match="onnection"):  # the job fails; the worker retries it later
        call(owner_api, "post", "/api/playlist", {"name": "Offline Mix", "isPublic": True})
    assert SearchChange.objects.filter(kind="playlist").count() == 1  # the change waits in the outbox
    assert [name for name, _ in pending_jobs()] == ["search.sync"]
    meili.start()
    run_pending_jobs()  # the retry
    assert [d["name"] for d in meili.documents(PLAYLISTS).values()] == ["Offline Mix"]
    assert not SearchChange.objects.exists()


def test_a_private_playlists_edits_send_nothing(call, meili, owner_api):
    reindex()
    private = call(owner_api, "post", "/api/playlist", {"name": "Diary", "isPublic": False}).json()["playlist"]
    call(owner_api, "patch", f"/api/playlist/{private['id']}", {"name": "Diary 2"})
    assert not SearchChange.objects.exists() and pending_jobs() == []
    assert meili.documents(PLAYLISTS) == {}


def test_the_periodic_net_pushes_what_a_given_up_job_left_behind(meili, owner_api, django_capture_on_commit_callbacks):
    reindex()
    meili.stop()
    with django_capture_on_commit_callbacks(execute=True):
        owner_api.post("/api/playlist", {"name": "Left Behind", "isPublic": True}, format="json")
    ProcrastinateJob.objects.all().delete()  # as if the job had run out of retries
    meili.start()
    app.perform_import_paths()
    app.tasks["search.sync_net"](timestamp=0)
    assert [d["name"] for d in meili.documents(PLAYLISTS).values()] == ["Left Behind"]


def test_new_play_counts_reach_meilisearchs_popularity(meili, catalog_rows, django_capture_on_commit_callbacks):
    song = catalog_rows.songs.get(name="Glósóli")
    listener = UserFactory()
    Play.objects.bulk_create(
        [Play(user=listener, song=song, play_duration=200, played_at=timezone.now()) for _ in range(3)]
    )
    with django_capture_on_commit_callbacks(execute=True):
        popular_refresh()
    run_pending_jobs()
    assert meili.documents(SONGS)[song.pk]["popularity"] == 3
    assert meili.documents("musicapp_albums")[catalog_rows.pk]["popularity"] == 3


# --- failures ------------------------------------------------------------------------------


@pytest.mark.parametrize("failure", ["timeout", "down", "error 500"])
def test_a_failing_meilisearch_hands_the_search_to_postgres_counted_logged_and_health_degraded(
    api, meili, catalog_rows, caplog, failure
):
    if failure == "timeout":
        meili.hang_s = 3  # MEILI_TIMEOUT_S is 0.5 here
    elif failure == "down":
        meili.stop()
    else:
        meili.failing = True
    counted = fallbacks()
    with caplog.at_level(logging.WARNING, logger="search.queries"):
        assert search(api, "hoppipolla") == (["Hoppipolla"], "postgres")
    assert fallbacks() == counted + 1
    assert "Meilisearch failed" in caplog.text
    health = api.get("/health")
    assert health.status_code == 503
    assert health.json()["status"] == "degraded" and health.json()["checks"]["search"] is False
    assert health.json()["checks"]["database"] is True


def test_after_a_failure_searches_skip_meilisearch_for_a_while_then_try_it_again(api, meili, catalog_rows):
    meili.stop()
    assert search(api, "hoppipolla")[1] == "postgres"
    meili.start()
    asked = requests_to(meili, "multi-search")
    assert search(api, "glosoli")[1] == "postgres"  # within MEILI_RETRY_AFTER_S: not even asked
    assert requests_to(meili, "multi-search") == asked
    queries.breaker.open_until = 0  # the while is over
    assert search(api, "takk")[1] == "meilisearch"


def test_a_healthy_meilisearch_is_healthy(api, meili):
    health = api.get("/health").json()
    assert health["checks"]["search"] is True and health["status"] == "healthy"


# --- reindex -------------------------------------------------------------------------------


def test_reindex_builds_each_index_anew_and_swaps_it_in_while_the_old_one_serves(meili, catalog_rows):
    reindex()
    meili.indexes[SONGS].documents["stale"] = {"id": "stale", "name": "Long Gone", "context": "", "popularity": 0}
    meili.requests.clear()
    out, err = io.StringIO(), io.StringIO()
    call_command("search_reindex", stdout=out, stderr=err)
    assert "PostgreSQL and Meilisearch" in out.getvalue()
    assert set(meili.documents(SONGS)) == set(catalog_rows.songs.values_list("pk", flat=True))
    assert sorted(meili.indexes) == sorted(f"musicapp_{kind}s" for kind in engines.KINDS)  # no leftovers
    # The live index was never emptied, deleted or written to: the new one was filled, then swapped.
    live_writes = [(m, p) for m, p in meili.requests if p.startswith(f"/indexes/{SONGS}/") and m != "GET"]
    assert live_writes == []
    swap = meili.requests.index(("POST", "/swap-indexes"))
    fresh_adds = [
        i for i, (_, p) in enumerate(meili.requests) if p.startswith(f"/indexes/{SONGS}_reindex_") and "/documents" in p
    ]
    assert fresh_adds and max(fresh_adds) < swap


def test_a_change_made_during_a_reindex_reaches_the_new_index(meili, catalog_rows, owner):
    from playlists.services import playlist_create

    made = []

    def change_midway(stage: str, total: int, done: int) -> None:
        if stage == "Meilisearch playlists" and not made:  # the new playlists index is filled
            made.append(playlist_create(owner=owner, name="Midway", is_public=True))

    PlaylistFactory(name="Before", is_public=True)  # so that the playlists index has a batch
    reindex(progress=change_midway)
    assert "Midway" not in [d["name"] for d in meili.documents(PLAYLISTS).values()]
    assert SearchChange.objects.filter(kind="playlist").count() == 1  # not covered by the reindex
    run_pending_jobs()
    assert sorted(d["name"] for d in meili.documents(PLAYLISTS).values()) == ["Before", "Midway"]


def test_a_database_from_before_search_gets_its_documents_on_migrate():
    SongFactory(name="Before Search")
    assert not SearchDocument.objects.exists()
    _documents_for_an_existing_catalog(sender=None, using="default")
    assert SearchDocument.objects.filter(kind="song", name="Before Search").exists()
