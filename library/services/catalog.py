"""Catalog writes (staff, through the admin; seed_demo). Each one retires the cached catalog
responses after commit, so nobody is served a song as it was before an edit."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TypeVar

from django.db import transaction
from django.db.models import Model, Q, QuerySet

from library import lrc
from library.audio import CheckedAudio
from library.cache import catalog_changed
from library.models import Album, Artist, Genre, Lyrics, Song
from musicapp.adapters import media
from musicapp.platform import indexing
from musicapp.platform.errors import InvalidInput

M = TypeVar("M", bound=Model)
COVER_STORE_PX = 600  # local covers are kept as 600 px squares (shown at 300, sharp on 2x screens)


def media_in_use(key: str) -> bool:
    """Stored names are content digests, so two rows may share a file."""
    return (
        Song.objects.filter(Q(file=key) | Q(image=key)).exists()
        or Album.objects.filter(image=key).exists()
        or Artist.objects.filter(image=key).exists()
    )


def _delete_unused_on_commit(keys: Iterable[str]) -> None:
    keys = [key for key in keys if key]

    def run() -> None:
        for key in keys:
            if not media_in_use(key):
                media.delete_now(key)

    if keys:
        transaction.on_commit(run)


def _save_with_files(obj: M, files: dict[str, Callable[[], str]]) -> M:
    """Store the new files, then save the row in one transaction. If the row cannot be saved,
    the files just stored go again (nothing half-saved); replaced files go after commit."""
    stored, replaced = list[str](), list[str]()
    try:
        for field, store in files.items():
            key = store()
            stored.append(key)
            replaced.append(getattr(obj, field))
            setattr(obj, field, key)
        with transaction.atomic():
            obj.save()
            _delete_unused_on_commit(key for key in replaced if key not in stored)
            catalog_changed()
            _tell_search(type(obj)._default_manager.filter(pk=obj.pk))
    except Exception:
        for key in stored:
            if not media_in_use(key):
                media.delete_now(key)
        raise
    return obj


def _cover(image: media.CheckedImage, folder: str) -> Callable[[], str]:
    return lambda: media.store_square_image(image, folder=folder, side=COVER_STORE_PX)


def artist_save(*, artist: Artist, image: media.CheckedImage | None = None) -> Artist:
    return _save_with_files(artist, {"image": _cover(image, "artists")} if image else {})


def album_save(*, album: Album, cover: media.CheckedImage | None = None) -> Album:
    return _save_with_files(album, {"image": _cover(cover, "covers")} if cover else {})


def song_save(*, song: Song, audio: CheckedAudio | None = None, cover: media.CheckedImage | None = None) -> Song:
    """The duration always comes from the audio file itself."""
    files = {}
    if audio is not None:
        song.duration = audio.duration
        files["file"] = lambda: media.store_audio(audio.data, folder="audio", ext=audio.ext)
    if cover is not None:
        files["image"] = _cover(cover, "covers")
    return _save_with_files(song, files)


def lyrics_save(*, lyrics: Lyrics) -> Lyrics:
    """Parse the LRC (InvalidInput naming the bad line) and keep the parsed lines with it."""
    if lyrics.synced_lrc.strip():
        try:
            lyrics.synced = lrc.as_json(lrc.parse(lyrics.synced_lrc))
        except lrc.LrcError as exc:
            raise InvalidInput(f"synced_lrc: {exc}", errors={"synced_lrc": [str(exc)]}) from exc
    else:
        lyrics.synced = None
    with transaction.atomic():
        lyrics.save()
        catalog_changed()
    return lyrics


def lyrics_delete(*, lyrics: Lyrics) -> None:
    with transaction.atomic():
        lyrics.delete()
        catalog_changed()


def genre_save(*, genre: Genre) -> Genre:
    """Songs show their genre's name: every cached page that shows one goes."""
    with transaction.atomic():
        genre.save()
        catalog_changed()
    return genre


def catalog_delete(*, queryset: QuerySet) -> int:
    """Delete artists, albums, songs or genres, and their files once nothing else uses them."""
    fields = [f for f in ("file", "image") if hasattr(queryset.model, f)]
    with transaction.atomic():
        keys = {key for row in queryset.values_list(*fields) for key in row} if fields else set()
        affected = _affected(queryset)
        deleted, _ = queryset.delete()
        _delete_unused_on_commit(keys)
        catalog_changed()
        for kind, ids in affected.items():
            indexing.changed(kind, ids)
    return deleted


def _affected(queryset: QuerySet) -> dict[str, list[str]]:
    """What search shows that these rows touch: themselves, and the songs and albums that carry
    an album's or artist's name."""
    ids = list(queryset.values_list("pk", flat=True))
    model = queryset.model
    if model is Song:
        return {"song": ids}
    if model is Album:
        return {"album": ids, "song": list(Song.objects.filter(album_id__in=ids).values_list("pk", flat=True))}
    if model is Artist:
        return {
            "artist": ids,
            "album": list(Album.objects.filter(artist_id__in=ids).values_list("pk", flat=True)),
            "song": list(Song.objects.filter(artist_id__in=ids).values_list("pk", flat=True)),
        }
    return {}


def _tell_search(queryset: QuerySet) -> None:
    for kind, ids in _affected(queryset).items():
        indexing.changed(kind, ids)
