import io

import mutagen
import pytest
from django.core.files.storage import default_storage
from django.core.management import call_command

from accounts.models import User
from library.models import Album, Artist, Lyrics, Song

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def test_demo_catalog_has_real_playable_audio_covers_and_lyrics():
    call_command("seed_demo", stdout=io.StringIO())
    assert Artist.objects.count() == 3 and Album.objects.count() == 6
    song = Song.objects.select_related("album").first()
    with default_storage.open(song.file.removeprefix("local:")) as audio:
        parsed = mutagen.File(io.BytesIO(audio.read()))
    assert type(parsed).__name__ == "WAVE" and parsed.info.length == pytest.approx(song.duration, abs=0.01)
    assert default_storage.exists(song.album.image.removeprefix("local:"))
    lyrics = Lyrics.objects.first()
    assert lyrics.plain and lyrics.synced and lyrics.synced[0]["time"] == 0.0


def test_seed_demo_is_idempotent():
    call_command("seed_demo", stdout=io.StringIO())
    counts = (Artist.objects.count(), Album.objects.count(), Song.objects.count(), Lyrics.objects.count())
    call_command("seed_demo", stdout=io.StringIO())
    assert (Artist.objects.count(), Album.objects.count(), Song.objects.count(), Lyrics.objects.count()) == counts


def test_if_empty_leaves_an_existing_catalog_alone():
    from tests.factories import SongFactory

    SongFactory()
    call_command("seed_demo", if_empty=True, stdout=io.StringIO())
    assert Song.objects.count() == 1


def test_bulk_songs_and_users_for_benchmarks():
    call_command("seed_demo", songs=250, users=40, batch_size=100, stdout=io.StringIO(), stderr=io.StringIO())
    assert Song.objects.filter(name__startswith="Bench Song").count() == 250
    assert User.objects.filter(name__startswith="Bench Listener").count() == 40
    assert all(len(pk) == 24 for pk in Song.objects.values_list("pk", flat=True))
