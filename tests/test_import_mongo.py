"""manage.py import_mongo: dumps built with pymongo's bson (tests/support/mongo_dump.py), imported
into the real PostgreSQL, checked row by row, through the API, rerun, interrupted and verified."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from rest_framework.test import APIClient

from accounts.models import User, UserSettings
from library.models import Album, LikedAlbum, LikedSong, Lyrics, Play, Recommendation, Song
from listening_sessions.models import ChatMessage, ListeningSession, QueueItem, SessionParticipant
from musicapp.models import ImportedDocument
from playlists.models import Playlist, PlaylistSong
from search.models import RecentSearch
from tests.support.auth import bearer
from tests.support.mongo_dump import LONG_PASSWORD, PASSWORDS, at, edge_cases, oid, realistic, write_dump
from tests.support.servers import process_env

pytestmark = pytest.mark.django_db
TABLES = (
    User, UserSettings, Album, Song, Lyrics, Playlist, PlaylistSong, LikedSong, LikedAlbum, Play, RecentSearch,
    Recommendation, ListeningSession, QueueItem, SessionParticipant, ChatMessage,
)  # fmt: skip


def run_import(dump, tmp_path, *args: str) -> tuple[str, dict]:
    out = StringIO()
    report = tmp_path / "report.json"
    call_command("import_mongo", str(dump), "--no-progress", "--no-refresh", "--report", str(report), *args, stdout=out)
    return out.getvalue(), json.loads(report.read_text())


def snapshot() -> dict[str, list[tuple]]:
    """Every imported row of every table, for comparing two end states."""
    return {model.__name__: sorted(model.objects.values_list()) for model in TABLES}


def problems(report: dict, collection: str) -> dict[str, dict]:
    return {p["id"]: p for p in report["problems"] if p["collection"] == collection}


def sign_in(call, email: str, password: str):
    return call(APIClient(), "post", "/api/auth/login", {"email": email, "password": password})


@pytest.fixture
def dump(tmp_path):
    return write_dump(tmp_path / "dump", realistic())


@pytest.fixture
def edge_dump(tmp_path):
    return write_dump(tmp_path / "edge", edge_cases())


# --- a realistic dump ---------------------------------------------------------------------


def test_every_document_of_a_realistic_dump_becomes_its_rows_with_its_id(dump, tmp_path):
    output, report = run_import(dump, tmp_path)

    assert report["problems"] == [] and "Every document was imported as it was." in output
    assert {name: stats["imported"] for name, stats in report["collections"].items()} == {
        name: len(docs) for name, docs in realistic().items()
    }
    ada = User.objects.get(pk=str(oid(1)))
    assert (ada.email, ada.name, ada.bio, ada.is_email_verified) == (
        "ada@example.com",
        "Ada Lovelace",
        "Engines and tunes",
        True,
    )
    assert ada.avatar == "https://res.cloudinary.com/demo/image/upload/ada.png"
    assert ada.created_at == at(0) and ada.password.startswith("bcrypt$$2a$04$")
    settings = UserSettings.objects.get(user=ada)
    assert (settings.theme, settings.audio_quality, settings.autoplay, settings.crossfade_seconds) == (
        "light",
        "very_high",
        False,
        5,
    )
    assert settings.equalizer == {
        "enabled": True,
        "preset": "rock",
        "bands": [5.0, 4.0, 3.0, 1.0, -1.0, -1.0, 1.0, 3.0, 4.0, 5.0],
    }
    assert settings.language == "fr"
    ben_settings = UserSettings.objects.get(user_id=str(oid(2)))  # userId given as a string: defaults
    assert (ben_settings.theme, ben_settings.crossfade_seconds, ben_settings.equalizer["preset"]) == ("dark", 0, "flat")

    come_together = Song.objects.get(pk=str(oid(31)))
    assert come_together.album_id == str(oid(21)) and come_together.duration == 260.0
    assert (come_together.file, come_together.image, come_together.desc) == (
        "https://audio/31.mp3",
        "https://img/31.jpg",
        "The Beatles",
    )
    assert Song.objects.get(pk=str(oid(38 - 2))).duration == 9 * 60 + 22
    assert Song.objects.get(name="Untitled Demo").album_id is None  # album "none"
    assert Album.objects.get(pk=str(oid(22))).bg_colour == "#8a2be2"
    lyrics = Lyrics.objects.get(song_id=str(oid(33)))
    assert lyrics.synced == [
        {"time": 12.5, "text": "Here comes the sun"},
        {"time": 17.0, "text": "And I say it's all right"},
    ]

    playlist = Playlist.objects.get(pk=str(oid(51)))
    assert list(playlist.entries.order_by("position").values_list("song_id", flat=True)) == [
        str(oid(n)) for n in (37, 33, 34, 36)
    ]
    assert playlist.song_count == 4 and playlist.is_public and playlist.owner_id == str(oid(1))
    plays = Play.objects.filter(user_id=str(oid(1)))
    assert plays.count() == 10 and plays.get(pk=str(oid(100))).context_id == str(oid(21))
    assert RecentSearch.objects.filter(user_id=str(oid(1))).count() == 2
    recommended = Recommendation.objects.filter(user_id=str(oid(1))).order_by("rank")
    assert list(recommended.values_list("song_id", flat=True)) == [str(oid(35)), str(oid(32))]
    party = ListeningSession.objects.get(pk=str(oid(301)))
    assert (party.code, party.is_active, party.position, party.current_song_id) == ("PARTY7", False, 42.5, str(oid(31)))
    assert party.ended_at == at(200) and party.end_reason == "ended_by_host"
    assert list(party.queue.order_by("position").values_list("song_id", flat=True)) == [str(oid(32)), str(oid(33))]
    assert set(party.participants.values_list("user_id", "left_at")) == {(str(oid(2)), at(190)), (str(oid(3)), None)}
    assert list(ChatMessage.objects.filter(session=party).order_by("created_at").values_list("text", flat=True)) == [
        "great pick!", "next one is better"
    ]  # fmt: skip


def test_old_links_and_passwords_work_through_the_api(dump, tmp_path, call):
    run_import(dump, tmp_path)

    response = sign_in(call, "ADA@example.com", PASSWORDS["ada"])
    assert response.status_code == 200
    assert User.objects.get(pk=str(oid(1))).password.startswith("argon2$argon2id$")  # upgraded at first login
    assert sign_in(call, "ada@example.com", PASSWORDS["ada"]).status_code == 200  # and still works after
    ada = bearer(response.json()["accessToken"])
    me = ada.get("/api/user/me").json()["user"]
    assert me["id"] == str(oid(1)) and me["name"] == "Ada Lovelace"
    assert ada.get("/api/user/settings").json()["settings"]["crossfadeSeconds"] == 5
    library = ada.get("/api/library").json()["library"]
    assert [song["id"] for song in library["likedSongs"]] == [str(oid(n)) for n in (36, 34, 31)]  # newest like first
    assert [album["id"] for album in library["likedAlbums"]] == [str(oid(22))]
    playlist = APIClient().get(f"/api/playlist/{oid(51)}").json()["playlist"]  # a public link, anonymous
    assert playlist["songIds"] == [str(oid(n)) for n in (37, 33, 34, 36)]
    assert APIClient().get(f"/api/song/{oid(33)}/lyrics").json()["lyrics"]["synced"][0]["time"] == 12.5
    assert APIClient().get(f"/api/album/{oid(21)}").json()["album"]["songCount"] == 3
    history = ada.get("/api/recently-played").json()["items"]
    assert history[0]["id"] == str(oid(127)) and len(history) == 10
    assert [s["query"] for s in ada.get("/api/search/recent").json()["searches"]] == ["björk", "beatles"]
    # An unverified account imports unverified: it signs in after the emailed code, as before.
    assert sign_in(call, "cleo@example.com", PASSWORDS["cleo"]).status_code == 403


def test_the_mongoexport_form_imports_the_same_rows_as_the_bson_dump(tmp_path):
    write_dump(tmp_path / "bson", realistic())
    write_dump(tmp_path / "json", realistic(), form="canonical")
    run_import(tmp_path / "bson", tmp_path)
    from_bson = snapshot()
    for model in reversed(TABLES):
        model.objects.all().delete()
    ImportedDocument.objects.all().delete()

    run_import(tmp_path / "json", tmp_path)

    assert snapshot() == from_bson


def test_a_mongodump_root_with_one_database_folder_and_gzipped_files_is_read(tmp_path):
    import gzip

    folder = write_dump(tmp_path / "dump" / "musicapp", {"users": realistic()["users"]})
    bson_file = folder / "users.bson"
    (folder / "users.bson.gz").write_bytes(gzip.compress(bson_file.read_bytes()))
    bson_file.unlink()

    run_import(tmp_path / "dump", tmp_path)

    assert User.objects.count() == 3


# --- legacy shapes and what cannot be imported ----------------------------------------------


def test_legacy_shapes_are_converted_and_every_other_document_is_reported(edge_dump, tmp_path, call):
    output, report = run_import(edge_dump, tmp_path)

    # Emails differing only by case: the oldest account keeps the address; the others merge.
    users = problems(report, "users")
    assert users[str(oid(4))]["outcome"] == "merged" and users[str(oid(4))]["target"] == str(oid(1))
    assert users[str(oid(6))]["target"] == str(oid(5)) and not User.objects.filter(pk=str(oid(6))).exists()
    assert User.objects.get(pk=str(oid(5))).is_email_verified  # one of Dan's two was verified
    assert Playlist.objects.get(pk=str(oid(53))).owner_id == str(oid(1))  # the merged account's data follows
    assert Play.objects.get(pk=str(oid(151))).user_id == str(oid(1))
    assert "not an email address" in users[str(oid(8))]["reasons"][0] and users[str(oid(8))]["outcome"] == "rejected"
    assert "is not an ObjectId" in users["legacy-string-id"]["reasons"][0]
    assert (
        "cut to 100 characters" in users[str(oid(7))]["reasons"][0]
        and len(User.objects.get(pk=str(oid(7))).name) == 100
    )
    assert (
        User.objects.get(pk=str(oid(9))).is_email_verified
        and not User.objects.get(pk=str(oid(9))).has_usable_password()
    )
    # A password longer than bcrypt's 72 bytes signs in as it did with bcryptjs.
    assert sign_in(call, "long@example.com", LONG_PASSWORD).status_code == 200
    assert sign_in(call, "long@example.com", LONG_PASSWORD[:71]).status_code == 401

    settings = problems(report, "usersettings")
    assert UserSettings.objects.get(pk=str(oid(13))).crossfade_seconds == 12  # "0:30" is 30 s, above the 12 s cap
    assert {"theme 'neon' is not one of ours: 'dark' used"} <= set(settings[str(oid(13))]["reasons"])
    assert "duplicate" in settings[str(oid(14))]["reasons"][-1] and settings[str(oid(14))]["outcome"] == "rejected"
    assert "dangling reference" in settings[str(oid(15))]["reasons"][0]

    # Songs name their album: shared names are told apart by the artist in `desc`.
    assert (
        Song.objects.get(pk=str(oid(46))).album_id == str(oid(24)) and Song.objects.get(pk=str(oid(46))).duration == 355
    )
    assert (
        Song.objects.get(pk=str(oid(47))).album_id == str(oid(25)) and Song.objects.get(pk=str(oid(47))).duration == 168
    )
    songs = problems(report, "songs")
    assert Song.objects.get(pk=str(oid(48))).album_id is None and "nothing tells them apart" in " ".join(
        songs[str(oid(48))]["reasons"]
    )
    assert "'3:5x' is not a duration" in " ".join(songs[str(oid(48))]["reasons"])
    assert Song.objects.get(pk=str(oid(49))).duration == 3661  # an _id given as a string keeps it
    assert "no album has that name" in songs[str(oid(49))]["reasons"][0]
    assert songs[str(oid(50))]["outcome"] == "rejected" and "no audio file" in songs[str(oid(50))]["reasons"][0]
    assert Album.objects.get(pk=str(oid(24))).bg_colour == "#aabbcc"
    assert "'blue' is not a colour" in problems(report, "albums")[str(oid(25))]["reasons"][0]

    lyrics = Lyrics.objects.get(pk=str(oid(44)))
    assert lyrics.synced is None and lyrics.synced_lrc == "not lrc at all"  # kept, not synced
    assert "do not parse" in problems(report, "lyrics")[str(oid(44))]["reasons"][0]
    assert problems(report, "lyrics")[str(oid(45))]["outcome"] == "rejected"

    entries = list(
        PlaylistSong.objects.filter(playlist_id=str(oid(53))).order_by("position").values_list("song_id", flat=True)
    )
    assert entries == [str(oid(31)), str(oid(32))]
    reasons = " ".join(problems(report, "playlists")[str(oid(53))]["reasons"])
    assert "songIds[1]" in reasons and "songIds[2]" in reasons and "songIds[4]" in reasons
    assert (
        Playlist.objects.get(pk=str(oid(53))).is_public and "owner" not in problems(report, "playlists")[str(oid(54))]
    )
    assert "userId" in problems(report, "playlists")[str(oid(54))]["reasons"][0]

    plays = problems(report, "recentlyplayeds")
    assert plays[str(oid(150))]["outcome"] == "rejected" and plays[str(oid(152))]["outcome"] == "rejected"
    assert (
        Play.objects.get(pk=str(oid(151))).play_duration == 90
        and Play.objects.get(pk=str(oid(151))).context_type == "other"
    )
    searches = problems(report, "recentsearches")
    assert "duplicate" in searches[str(oid(204))]["reasons"][-1] and "empty" in searches[str(oid(205))]["reasons"][0]

    sessions = problems(report, "sessions")
    assert ListeningSession.objects.get(pk=str(oid(302))).is_active
    ended = ListeningSession.objects.get(pk=str(oid(303)))
    assert not ended.is_active and "imported as ended" in sessions[str(oid(303))]["reasons"][-1]
    assert ListeningSession.objects.get(pk=str(oid(304))).code == "LEGACY-CODE-12"
    assert problems(report, "sessionparticipants")[str(oid(313))]["outcome"] == "rejected"
    assert ChatMessage.objects.get(pk=str(oid(323))).user_id is None  # the author is gone; the words stay
    assert problems(report, "chatmessages")[str(oid(324))]["outcome"] == "rejected"

    # Nothing silently dropped: every document is imported, merged or listed as rejected.
    for name, docs in edge_cases().items():
        stats = report["collections"][name]
        assert stats["read"] == len(docs) == stats["imported"] + stats["merged"] + stats["rejected"]
        listed = {p["id"] for p in report["problems"] if p["collection"] == name and p["outcome"] != "imported"}
        assert len(listed) == stats["merged"] + stats["rejected"]
    assert "users/" + str(oid(4)) + " merged -> " + str(oid(1)) in output


def test_a_truncated_bson_file_imports_what_is_whole_and_reports_the_rest(tmp_path):
    folder = write_dump(tmp_path / "dump", {"users": realistic()["users"]})
    data = (folder / "users.bson").read_bytes()
    (folder / "users.bson").write_bytes(data[:-10])

    _, report = run_import(folder, tmp_path)

    assert User.objects.count() == 2
    assert [p["reasons"] for p in report["problems"]] == [["the file ends inside a document (truncated dump)"]]


def test_an_unknown_collection_is_named_and_a_missing_folder_is_a_clear_error(tmp_path):
    folder = write_dump(tmp_path / "dump", {"users": realistic()["users"], "widgets": [{"_id": oid(1), "x": 1}]})
    output, report = run_import(folder, tmp_path)
    assert report["unknownCollections"] == ["widgets"] and "widgets" in output
    with pytest.raises(CommandError, match="is not a folder"):
        run_import(tmp_path / "nowhere", tmp_path)


# --- reruns ---------------------------------------------------------------------------------


def test_a_second_run_over_the_same_dump_changes_nothing_and_says_so(edge_dump, tmp_path):
    run_import(edge_dump, tmp_path)
    before = snapshot()

    output, report = run_import(edge_dump, tmp_path)

    assert snapshot() == before
    assert "Nothing changed" in output
    assert all(stats["imported"] == stats["updated"] == 0 for stats in report["collections"].values())


def test_a_newer_dump_applies_only_its_differences_and_keeps_edits_made_since(dump, tmp_path):
    run_import(dump, tmp_path)
    Playlist.objects.filter(pk=str(oid(52))).update(name="Renamed in the new app")
    newer = realistic()
    newer["users"][1]["name"] = "Benjamin"
    newer["playlists"][0]["songIds"] = [oid(36), oid(37), oid(33)]
    newer["recentlyplayeds"].append({"_id": oid(199), "userId": oid(2), "songId": oid(31), "playDuration": 3})
    write_dump(tmp_path / "newer", newer)

    _, report = run_import(tmp_path / "newer", tmp_path)

    stats = report["collections"]
    assert (stats["users"]["updated"], stats["users"]["unchanged"]) == (1, 2)
    assert (stats["playlists"]["updated"], stats["playlists"]["unchanged"]) == (1, 1)
    assert (stats["recentlyplayeds"]["imported"], stats["recentlyplayeds"]["unchanged"]) == (1, 30)
    assert User.objects.get(pk=str(oid(2))).name == "Benjamin"
    entries = PlaylistSong.objects.filter(playlist_id=str(oid(51))).order_by("position")
    assert list(entries.values_list("song_id", flat=True)) == [str(oid(36)), str(oid(37)), str(oid(33))]
    assert Playlist.objects.get(pk=str(oid(52))).name == "Renamed in the new app"  # unchanged in MongoDB: kept


def test_a_document_gone_from_a_newer_dump_is_reported_and_kept(dump, tmp_path):
    run_import(dump, tmp_path)
    newer = realistic()
    del newer["chatmessages"][0]
    write_dump(tmp_path / "newer", newer)

    _, report = run_import(tmp_path / "newer", tmp_path)

    assert problems(report, "chatmessages")[str(oid(321))]["outcome"] == "absent"
    assert ChatMessage.objects.filter(pk=str(oid(321))).exists()


def test_a_dry_run_reports_everything_and_commits_nothing(edge_dump, tmp_path):
    output, report = run_import(edge_dump, tmp_path, "--dry-run")

    assert report["dryRun"] and report["collections"]["users"]["imported"] == 6
    assert problems(report, "users")[str(oid(4))]["outcome"] == "merged"
    assert "rolled back" in output
    assert not User.objects.exists() and not ImportedDocument.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_an_import_killed_half_way_finishes_on_the_next_run_with_the_same_rows(tmp_path):
    data = realistic()
    data["recentlyplayeds"] = [
        {"_id": oid(10_000 + i), "userId": oid(1 + i % 3), "songId": oid(31 + i % 8), "playDuration": i % 200}
        for i in range(4_000)
    ]
    write_dump(tmp_path / "dump", data)
    command = [sys.executable, "manage.py", "import_mongo", str(tmp_path / "dump"), "--batch-size", "20"]
    proc = subprocess.Popen(
        [*command, "--no-progress", "--no-refresh", "--report", str(tmp_path / "killed.json")],
        env=process_env(),
        stdout=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while not Play.objects.exists():
        assert proc.poll() is None and time.monotonic() < deadline, "the import ended before it could be killed"
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert 0 < Play.objects.count() < 4_000

    _, report = run_import(tmp_path / "dump", tmp_path)
    resumed = snapshot()
    assert report["collections"]["recentlyplayeds"]["unchanged"] > 0 and Play.objects.count() == 4_000
    for model in reversed(TABLES):
        model.objects.all().delete()
    ImportedDocument.objects.all().delete()
    run_import(tmp_path / "dump", tmp_path)
    assert snapshot() == resumed


# --- verify ---------------------------------------------------------------------------------


def test_verify_passes_after_an_import_and_names_a_tampered_row(edge_dump, tmp_path):
    run_import(edge_dump, tmp_path)
    out = StringIO()
    call_command("import_mongo", str(edge_dump), "--verify", stdout=out)
    assert "matches the dump" in out.getvalue()

    Song.objects.filter(pk=str(oid(33))).update(duration=1)
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM playlists_playlistsong WHERE playlist_id = %s AND position = 0", [str(oid(51))])
    out = StringIO()
    with pytest.raises(CommandError, match="2 difference"):
        call_command("import_mongo", str(edge_dump), "--verify", stdout=out)
    assert f"songs/{oid(33)}: library_song.duration of {oid(33)} is 1.0, the dump says 185.0" in out.getvalue()
    assert f"playlists/{oid(51)}: playlist song" in out.getvalue()


def test_verify_fails_on_a_document_the_import_never_saw(dump, tmp_path):
    run_import(dump, tmp_path)
    newer = realistic()
    newer["albums"].append({"_id": oid(29), "name": "Added later"})
    write_dump(tmp_path / "newer", newer)

    with pytest.raises(CommandError, match="1 difference"):
        call_command("import_mongo", str(tmp_path / "newer"), "--verify", stdout=StringIO())


# --- afterwards -----------------------------------------------------------------------------


def test_the_import_refreshes_search_popular_songs_and_recommendations(dump, tmp_path):
    out = StringIO()
    call_command("import_mongo", str(dump), "--no-progress", "--report", str(tmp_path / "r.json"), stdout=out)

    found = APIClient().get("/api/search", {"q": "joga", "type": "song"}).json()["results"]["songs"]
    assert [song["id"] for song in found] == [str(oid(34))]
    assert "Popular songs refreshed" in out.getvalue()  # the dump's plays are too old to be popular now
    assert Recommendation.objects.filter(user_id=str(oid(2))).exclude(generated_at=at(60)).exists()


@pytest.mark.parametrize("batch_size", ["1000", "1"])
def test_a_repeated_id_keeps_the_last_document_and_reports_the_first(tmp_path, batch_size):
    users = realistic()["users"]
    users.append({**users[1], "name": "Ben, the later copy"})
    folder = write_dump(tmp_path / "dump", {"users": users})

    _, report = run_import(folder, tmp_path, "--batch-size", batch_size)

    assert User.objects.get(pk=str(oid(2))).name == "Ben, the later copy"
    stats = report["collections"]["users"]
    # In one batch the earlier copy is set aside; across batches it is imported, then updated.
    assert stats["read"] == 4 == stats["imported"] + stats["updated"] + stats["rejected"]
    assert "more than once" in problems(report, "users")[str(oid(2))]["reasons"][-1]


def test_plays_of_the_usual_shape_take_the_fast_way_to_the_same_rows():
    from musicapp.mongo_import.specs import Plays, Refs

    spec, docs = Plays(), realistic()["recentlyplayeds"]
    docs += [
        {"_id": oid(500), "userId": oid(1), "songId": oid(31), "playDuration": 12.3456, "contextId": oid(51)},
        {"_id": oid(501), "userId": oid(4), "songId": oid(31), "skipped": True, "updatedAt": at(9), "playedAt": at(8)},
        {"_id": oid(503), "userId": oid(1), "songId": oid(31), "contextId": str(oid(51)).upper()},
        {"_id": oid(504), "userId": oid(1), "songId": oid(31), "contextId": "radio:morning"},
    ]
    refs = Refs({"users": {str(oid(1)), str(oid(2)), str(oid(3))}, "songs": {str(oid(n)) for n in range(31, 39)}}, {})
    for doc in docs:
        fast = spec.fast_row(doc, {str(oid(4)): str(oid(1))})
        refs.user_aliases = {str(oid(4)): str(oid(1))}
        careful = spec.convert(doc, refs).rows[0][1]
        assert fast is not None and dict(zip(Plays.FAST_COLUMNS, fast, strict=True)) == careful
    for odd in (
        {"_id": "x"},
        {"_id": oid(502), "userId": str(oid(1)), "songId": oid(31)},
        {**docs[0], "playDuration": "1:30"},
    ):
        assert spec.fast_row(odd, {}) is None


@pytest.mark.django_db(transaction=True)
def test_a_big_play_collection_is_shared_with_a_second_process_and_loses_nothing(tmp_path, monkeypatch):
    from musicapp.mongo_import import engine

    monkeypatch.setattr(engine, "PARALLEL_BYTES", 0)
    monkeypatch.setattr(engine, "DEFER_INDEXES_BYTES", 0)
    data = realistic()
    data["recentlyplayeds"] = [
        {"_id": oid(20_000 + i), "userId": oid(1 + i % 3), "songId": oid(31 + i % 8), "playDuration": i % 300}
        for i in range(3_000)
    ] + [{"_id": oid(29_999), "userId": oid(998), "songId": oid(31)}]  # one dangling, at the end: the helper's half
    write_dump(tmp_path / "dump", data)

    _, report = run_import(tmp_path / "dump", tmp_path, "--batch-size", "500")

    stats = report["collections"]["recentlyplayeds"]
    assert (stats["read"], stats["imported"], stats["rejected"]) == (3_001, 3_000, 1)
    assert (
        Play.objects.count() == 3_000 and problems(report, "recentlyplayeds")[str(oid(29_999))]["outcome"] == "rejected"
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_indexes WHERE tablename = 'library_play'")
        assert cursor.fetchone()[0] == 1 + len(Play._meta.indexes)  # built again after the load
    call_command("import_mongo", str(tmp_path / "dump"), "--verify", stdout=StringIO())


# --- what a hostile review found ------------------------------------------------------------


def test_values_of_shapes_nothing_expected_reject_their_document_and_the_run_goes_on(tmp_path):
    users = realistic()["users"]
    users += [
        {"_id": oid(70), "email": "a@example.com", "name": True},
        {"_id": oid(71), "email": "b@example.com", "bio": {"nested": 1}},
        {"_id": oid(72), "email": "c@example.com", "createdAt": 10**17},
    ]
    folder = write_dump(tmp_path / "dump", {"users": users})
    (folder / "prelude.json").write_text('{"ServerVersion": "7.0"}')  # newer mongodumps write it

    _, report = run_import(folder, tmp_path)

    found = problems(report, "users")
    assert found[str(oid(70))]["outcome"] == "rejected" and "cannot be read" in found[str(oid(70))]["reasons"][0]
    assert found[str(oid(71))]["outcome"] == "rejected"
    assert User.objects.get(pk=str(oid(72))).created_at == values_id_time(72)  # unreadable date: the id's time
    assert "prelude" not in report["collections"] and User.objects.count() == 4


def values_id_time(n):
    from musicapp.mongo_import.values import id_time

    return id_time(str(oid(n)))


def test_a_newer_dump_cannot_make_a_session_active_on_a_code_another_holds(edge_dump, tmp_path):
    run_import(edge_dump, tmp_path)
    newer = edge_cases()
    ended = next(doc for doc in newer["sessions"] if doc["_id"] == oid(303))
    ended["currentTime"] = 99  # changed: written again, still refused its code
    write_dump(tmp_path / "newer", newer)

    _, report = run_import(tmp_path / "newer", tmp_path)

    assert not ListeningSession.objects.get(pk=str(oid(303))).is_active
    assert ListeningSession.objects.get(pk=str(oid(303))).position == 99
    assert report["collections"]["sessions"]["updated"] == 1


def test_two_recommendation_documents_for_one_user_keep_the_later_one(tmp_path):
    data = realistic()
    data["recommendations"].append({"_id": oid(212), "userId": oid(1), "songIds": [oid(37)], "reason": "popular"})
    write_dump(tmp_path / "dump", data)

    _, report = run_import(tmp_path / "dump", tmp_path)

    assert list(Recommendation.objects.filter(user_id=str(oid(1))).values_list("song_id", flat=True)) == [str(oid(37))]
    assert problems(report, "recommendations")[str(oid(211))]["outcome"] == "rejected"


def test_verify_passes_after_an_import_that_recomputed_recommendations(dump, tmp_path):
    call_command("import_mongo", str(dump), "--no-progress", "--report", str(tmp_path / "r.json"), stdout=StringIO())

    call_command("import_mongo", str(dump), "--verify", stdout=StringIO())


def test_a_password_changed_in_the_new_app_survives_a_newer_dump(dump, tmp_path, call):
    run_import(dump, tmp_path)
    assert sign_in(call, "ada@example.com", PASSWORDS["ada"]).status_code == 200  # upgraded to Argon2id
    newer = realistic()
    newer["users"][0]["updatedAt"] = at(999)  # the old app touched the document meanwhile
    newer["users"][2]["isEmailVerified"] = True
    write_dump(tmp_path / "newer", newer)

    _, report = run_import(tmp_path / "newer", tmp_path)

    assert report["collections"]["users"]["updated"] == 2
    assert User.objects.get(pk=str(oid(1))).password.startswith("argon2$")
    assert sign_in(call, "ada@example.com", PASSWORDS["ada"]).status_code == 200
    assert sign_in(call, "cleo@example.com", PASSWORDS["cleo"]).status_code == 200  # verified since: now it signs in


def test_a_rerun_that_changes_a_user_drops_the_cached_copies_of_that_user(
    dump, tmp_path, call, django_capture_on_commit_callbacks
):
    run_import(dump, tmp_path)
    ben = bearer(sign_in(call, "ben@example.com", PASSWORDS["ben"]).json()["accessToken"])
    assert ben.get("/api/user/me").json()["user"]["name"] == "Ben"
    newer = realistic()
    newer["users"][1]["name"] = "Benjamin"
    write_dump(tmp_path / "newer", newer)

    with django_capture_on_commit_callbacks(execute=True):
        run_import(tmp_path / "newer", tmp_path)

    assert ben.get("/api/user/me").json()["user"]["name"] == "Benjamin"
