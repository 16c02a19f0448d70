"""manage.py backup / restore (musicapp.platform.backups): a real pg_dump and pg_restore of the
test database and the local media store, round trip after a simulated disaster."""

import io
import tarfile

import pytest
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from accounts.models import User
from library.cache import catalog_changed
from library.models import Song
from playlists import services as playlists
from playlists.models import Playlist
from tests.factories import SongFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def test_a_backup_brings_back_the_database_and_media_after_a_disaster(settings, tmp_path):
    owner = UserFactory(email="olive@example.com")
    audio = settings.MEDIA_ROOT / "audio" / "tune.wav"
    audio.parent.mkdir(parents=True)
    audio.write_bytes(b"RIFF" + bytes(range(256)) * 10)
    song = SongFactory(name="Original title", file="local:audio/tune.wav")
    playlist = playlists.playlist_create(owner=owner, name="Keep me", is_public=True)
    playlists.playlist_song_add(playlist_id=playlist.pk, user=owner, song_id=song.pk)
    reader = APIClient()
    assert reader.get(f"/api/song/{song.pk}").json()["song"]["name"] == "Original title"  # now cached

    output = io.StringIO()
    call_command("backup", output=tmp_path / "backup.tar", stdout=output)
    assert "1 media file(s)" in output.getvalue()

    # The disaster: rows deleted and changed, a file lost, a newcomer who is not in the backup.
    Playlist.objects.all().delete()
    Song.objects.filter(pk=song.pk).update(name="Vandalised")
    catalog_changed()
    assert reader.get(f"/api/song/{song.pk}").json()["song"]["name"] == "Vandalised"
    audio.unlink()
    UserFactory(email="after@example.com")

    call_command("restore", str(tmp_path / "backup.tar"), yes=True, stdout=io.StringIO())

    restored = Playlist.objects.get()
    assert (restored.pk, restored.name, restored.song_count) == (playlist.pk, "Keep me", 1)
    assert list(restored.entries.values_list("song_id", flat=True)) == [song.pk]
    assert not User.objects.filter(email="after@example.com").exists()
    assert audio.read_bytes() == b"RIFF" + bytes(range(256)) * 10
    # Nothing cached from before the restore is served: the page is built from the restored row.
    assert reader.get(f"/api/song/{song.pk}").json()["song"]["name"] == "Original title"


def test_restore_refuses_a_file_that_is_not_a_backup_and_changes_nothing(tmp_path):
    UserFactory(email="stays@example.com")
    impostor = tmp_path / "impostor.tar"
    with tarfile.open(impostor, "w") as archive:
        data = b'{"format": 99}'
        info = tarfile.TarInfo("manifest.json")
        info.size = len(data)
        archive.addfile(info, io.BytesIO(data))
    (tmp_path / "noise.tar").write_bytes(b"not a tar at all")

    for path in (impostor, tmp_path / "noise.tar", tmp_path / "missing.tar"):
        with pytest.raises(CommandError):
            call_command("restore", str(path), yes=True, stdout=io.StringIO())
    assert User.objects.filter(email="stays@example.com").exists()


def test_a_backup_never_overwrites_a_file(tmp_path):
    existing = tmp_path / "backup.tar"
    existing.write_bytes(b"an older backup")
    with pytest.raises(CommandError, match="exists"):
        call_command("backup", output=existing, stdout=io.StringIO())
    assert existing.read_bytes() == b"an older backup"


def test_restore_refuses_a_database_newer_than_the_backup(tmp_path):
    from django.db import connection

    call_command("backup", output=tmp_path / "backup.tar", stdout=io.StringIO())
    with connection.cursor() as cursor:  # a later release's migration, applied since the backup
        cursor.execute("INSERT INTO django_migrations (app, name, applied) VALUES ('musicapp', '9999_later', now())")
    UserFactory(email="stays@example.com")

    with pytest.raises(CommandError, match="empty database"):
        call_command("restore", str(tmp_path / "backup.tar"), yes=True, stdout=io.StringIO())
    assert User.objects.filter(email="stays@example.com").exists()
