import io

import mutagen
import pytest
from django.core.files.storage import default_storage
from django.core.management import call_command

from accounts.models import User
from library.models import Album, Artist, Lyrics, Song
from playlists.models import Playlist, PlaylistSong
from search.models import SearchDocument

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


SMALL = 0.02  # 4 artists, 6 albums, 40 songs: the full demo (scale 1) is search's test data


def test_demo_catalog_has_real_playable_audio_covers_and_lyrics():
    call_command("seed_demo", scale=SMALL, stdout=io.StringIO())
    assert (Artist.objects.count(), Album.objects.count(), Song.objects.count()) == (4, 6, 40)
    song = Song.objects.select_related("album").first()
    with default_storage.open(song.file.removeprefix("local:")) as audio:
        parsed = mutagen.File(io.BytesIO(audio.read()))
    assert type(parsed).__name__ == "WAVE" and parsed.info.length == pytest.approx(song.duration, abs=0.01)
    assert default_storage.exists(song.album.image.removeprefix("local:"))
    assert all(default_storage.exists(a.image.removeprefix("local:")) for a in Artist.objects.all())
    lyrics = Lyrics.objects.first()
    assert lyrics.plain and lyrics.synced and lyrics.synced[0]["time"] == 0.0
    assert Lyrics.objects.count() == 6  # every album's first track


def test_demo_playlists_are_public_and_hold_songs_in_order():
    call_command("seed_demo", scale=SMALL, stdout=io.StringIO())
    playlists = Playlist.objects.all()
    assert playlists and all(p.is_public and p.song_count == p.entries.count() > 0 for p in playlists)
    positions = sorted(playlists[0].entries.values_list("position", flat=True))
    assert positions == list(range(len(positions)))


def test_the_demo_catalog_is_searchable_at_once(api):
    call_command("seed_demo", scale=SMALL, stdout=io.StringIO())
    artists = api.get("/api/search", {"q": "beatl", "type": "artist"}).json()["results"]["artists"]
    assert [a["name"] for a in artists] == ["The Beatles"]


def test_seed_demo_is_idempotent():
    def counts():
        return [m.objects.count() for m in (Artist, Album, Song, Lyrics, Playlist, PlaylistSong)]

    call_command("seed_demo", scale=SMALL, stdout=io.StringIO())
    before = counts()
    call_command("seed_demo", scale=SMALL, stdout=io.StringIO())
    assert counts() == before


def test_if_empty_leaves_an_existing_catalog_alone():
    from tests.factories import SongFactory

    SongFactory()
    call_command("seed_demo", if_empty=True, stdout=io.StringIO())
    assert Song.objects.count() == 1


def test_bulk_songs_and_users_for_benchmarks():
    call_command("seed_demo", scale=SMALL, stdout=io.StringIO())
    demo = Song.objects.count()
    call_command(
        "seed_demo", scale=SMALL, songs=250, users=40, batch_size=100, stdout=io.StringIO(), stderr=io.StringIO()
    )
    assert Song.objects.count() == demo + 250
    assert User.objects.filter(name__startswith="Bench Listener").count() == 40
    assert all(len(pk) == 24 for pk in Song.objects.values_list("pk", flat=True))
    assert SearchDocument.objects.filter(kind="song").count() == demo + 250  # bulk songs are searchable


def test_bulk_plays_and_playlists_up_to_totals_for_benchmarks():
    from django.db.models import Count, Max, Q

    from library.models import Play

    options = {"scale": SMALL, "users": 30, "plays": 2000, "playlists": 60, "totals": True}
    call_command("seed_demo", **options, stdout=io.StringIO(), stderr=io.StringIO())
    demo_playlists = Playlist.objects.filter(owner__email="radio@demo.invalid").count()
    assert (User.objects.count(), Play.objects.count(), Playlist.objects.count()) == (30, 2000, 60)

    bulk = Playlist.objects.exclude(owner__email="radio@demo.invalid").annotate(
        entries_n=Count("entries"), last=Max("entries__position")
    )
    assert bulk.count() == 60 - demo_playlists
    # Each holds distinct songs at dense positions 0..n-1, as the services keep them.
    assert all(p.song_count == p.entries_n == p.last + 1 > 0 for p in bulk)
    assert bulk.filter(Q(is_public=True)).exists() and bulk.filter(is_public=False).exists()

    call_command("seed_demo", **options, stdout=io.StringIO(), stderr=io.StringIO())  # the totals are met
    assert (User.objects.count(), Play.objects.count(), Playlist.objects.count()) == (30, 2000, 60)
