"""Orphaned files of the local media store (media.delete_orphans job, cleanup_media command)."""

import io
import os
import time

import pytest
from django.core.management import call_command

from musicapp.platform.tasks import delete_orphaned_media
from tests.factories import AlbumFactory, PlaylistFactory, SongFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def stored(root, name: str, *, hours_old: float):
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"bytes")
    then = time.time() - hours_old * 3600
    os.utime(path, (then, then))
    return path


def test_files_nothing_points_at_go_once_past_the_grace_period(media_root):
    kept = {
        stored(media_root, "covers/album.webp", hours_old=48),
        stored(media_root, "audio/song.wav", hours_old=48),
        stored(media_root, "avatars/u/me.webp", hours_old=48),
        stored(media_root, "banners/p/b.webp", hours_old=48),
        stored(media_root, "audio/just-uploaded.wav", hours_old=1),  # its row may not have committed yet
    }
    orphan = stored(media_root, "covers/replaced.webp", hours_old=48)
    SongFactory(file="local:audio/song.wav", album=AlbumFactory(image="local:covers/album.webp"))
    UserFactory(avatar="local:avatars/u/me.webp")
    PlaylistFactory(banner="local:banners/p/b.webp")
    delete_orphaned_media(timestamp=0)
    assert not orphan.exists()
    assert all(path.exists() for path in kept)


def test_command_takes_its_own_grace_period(media_root):
    orphan = stored(media_root, "covers/replaced.webp", hours_old=2)
    out = io.StringIO()
    call_command("cleanup_media", older_than_hours=1, stdout=out)
    assert not orphan.exists() and "Deleted 1 orphaned" in out.getvalue()
