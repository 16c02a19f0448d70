"""Every write on playlists.

Song edits (add, remove, reorder) hold a row lock on the playlist for their transaction, so
concurrent edits queue instead of interleaving: positions stay a dense 0..n-1 and nothing
is lost or duplicated. After commit, caches are dropped and listeners get the new state.
"""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.db.models import F

from accounts.models import User
from library.models import Song
from musicapp.adapters import media
from musicapp.platform import realtime, scoped_cache
from musicapp.platform.errors import Conflict, InvalidInput, NotAllowed, NotFound
from playlists.models import MAX_SONGS, Playlist, PlaylistCollaborator, PlaylistSong

BANNER_SIDE_PX = 600


def group_name(playlist_id: str) -> str:
    return f"playlist.{playlist_id}"


# --- permissions --------------------------------------------------------------------------


def is_collaborator(playlist: Playlist, user: User) -> bool:
    return user.is_authenticated and PlaylistCollaborator.objects.filter(playlist=playlist, user=user).exists()


def can_read(playlist: Playlist, user: User) -> bool:
    return (
        playlist.is_public
        or (user.is_authenticated and playlist.owner_id == user.pk)
        or is_collaborator(playlist, user)
    )


def get_readable(playlist_id: str, user: User, *, lock: bool = False) -> Playlist:
    """The playlist if the user may read it; 404 otherwise, so strangers learn nothing."""
    playlists = Playlist.objects.select_for_update() if lock else Playlist.objects
    playlist = playlists.filter(pk=playlist_id).first()
    if playlist is None or not can_read(playlist, user):
        raise NotFound("No such playlist.")
    return playlist


def _check_owner(playlist: Playlist, user: User, action: str) -> None:
    if playlist.owner_id != user.pk:
        raise NotAllowed(f"Only the playlist's owner can {action}.")


def _check_song_editor(playlist: Playlist, user: User) -> None:
    if playlist.owner_id == user.pk:
        return
    if playlist.collaborative and is_collaborator(playlist, user):
        return
    raise NotAllowed("Only the owner and, on a collaborative playlist, its collaborators can change its songs.")


# --- after a change -------------------------------------------------------------------------


def _member_ids(playlist: Playlist) -> list[str]:
    return [
        playlist.owner_id,
        *PlaylistCollaborator.objects.filter(playlist=playlist).values_list("user_id", flat=True),
    ]


def _changed(playlist: Playlist, *, was_public: bool | None = None, members: list[str] | None = None) -> None:
    """Touch, drop the caches that show this playlist, and broadcast the new state after commit."""
    playlist.save(update_fields=["updated_at"])
    scoped_cache.changed_on_commit(f"playlist:{playlist.pk}")
    if playlist.is_public or was_public:
        scoped_cache.changed_on_commit("public_playlists")
    for user_id in set(members or []) | set(_member_ids(playlist)):
        scoped_cache.user_changed_on_commit(user_id, "playlists")
    playlist_id = playlist.pk
    transaction.on_commit(lambda: broadcast_state(playlist_id))


def broadcast_state(playlist_id: str) -> None:
    """Send listeners the committed state (read after commit, so concurrent edits arrive in order)."""
    from djangorestframework_camel_case.util import camelize

    from playlists.serializers import PlaylistSerializer

    playlist = Playlist.objects.for_api().filter(pk=playlist_id).first()
    if playlist is None:
        return
    realtime.send_now(
        group_name(playlist_id),
        {
            "type": "playlist.update",
            "playlist": camelize(PlaylistSerializer(playlist).data),  # the same keys as the REST object
            "is_public": playlist.is_public,
            "members": [playlist.owner_id, *(u.pk for u in playlist.collaborators.all())],
        },
    )


# --- playlists ----------------------------------------------------------------------------


def playlist_create(
    *, owner: User, name: str, desc: str = "", is_public: bool = False, collaborative: bool = False
) -> Playlist:
    with transaction.atomic():
        playlist = Playlist.objects.create(
            owner=owner, name=name, desc=desc, is_public=is_public, collaborative=collaborative
        )
        _changed(playlist)
    return playlist


def playlist_update(*, playlist_id: str, user: User, **fields) -> Playlist:
    """Owner only. Turning `collaborative` off keeps the collaborators, read-only."""
    with transaction.atomic():
        playlist = get_readable(playlist_id, user, lock=True)
        _check_owner(playlist, user, "change it")
        was_public = playlist.is_public
        for field, value in fields.items():
            setattr(playlist, field, value)
        playlist.save(update_fields=[*fields, "updated_at"])
        _changed(playlist, was_public=was_public)
    return playlist


def playlist_delete(*, playlist_id: str, user: User) -> None:
    with transaction.atomic():
        playlist = get_readable(playlist_id, user, lock=True)
        _check_owner(playlist, user, "delete it")
        members, was_public, banner = _member_ids(playlist), playlist.is_public, playlist.banner
        playlist.delete()
        scoped_cache.changed_on_commit(f"playlist:{playlist_id}")
        if was_public:
            scoped_cache.changed_on_commit("public_playlists")
        for user_id in members:
            scoped_cache.user_changed_on_commit(user_id, "playlists")
        media.delete_on_commit(banner)
        realtime.send_on_commit(group_name(playlist_id), {"type": "playlist.deleted", "id": playlist_id})


def playlist_set_banner(*, playlist_id: str, user: User, upload) -> Playlist:
    with transaction.atomic():
        playlist = get_readable(playlist_id, user)
        _check_owner(playlist, user, "change its banner")
    image = media.check_image(upload, field="banner", max_bytes=settings.BANNER_MAX_BYTES)
    key = media.store_square_image(image, folder=f"banners/{playlist_id}", side=BANNER_SIDE_PX)
    try:
        with transaction.atomic():
            playlist = get_readable(playlist_id, user, lock=True)
            old, playlist.banner = playlist.banner, key
            playlist.save(update_fields=["banner", "updated_at"])
            if old and old != key:
                media.delete_on_commit(old)
            _changed(playlist)
    except Exception:
        media.delete_now(key)  # nothing half-saved
        raise
    return playlist


# --- songs ----------------------------------------------------------------------------------


def playlist_song_add(*, playlist_id: str, user: User, song_id: str, position: int | None = None) -> Playlist:
    """Insert at `position` (default: the end), shifting what follows. Holds the row lock."""
    with transaction.atomic():
        playlist = get_readable(playlist_id, user, lock=True)
        _check_song_editor(playlist, user)
        if not Song.objects.filter(pk=song_id).exists():
            raise NotFound("No such song.")
        if PlaylistSong.objects.filter(playlist=playlist, song_id=song_id).exists():
            raise Conflict("That song is already in the playlist.")
        if playlist.song_count >= MAX_SONGS:
            raise Conflict(f"A playlist holds at most {MAX_SONGS:,} songs.")
        at = playlist.song_count if position is None else min(position, playlist.song_count)
        PlaylistSong.objects.filter(playlist=playlist, position__gte=at).update(position=F("position") + 1)
        PlaylistSong.objects.create(playlist=playlist, song_id=song_id, position=at, added_by=user)
        playlist.song_count += 1
        playlist.save(update_fields=["song_count", "updated_at"])
        _changed(playlist)
    return playlist


def playlist_song_remove(*, playlist_id: str, user: User, song_id: str) -> Playlist:
    with transaction.atomic():
        playlist = get_readable(playlist_id, user, lock=True)
        _check_song_editor(playlist, user)
        entry = PlaylistSong.objects.filter(playlist=playlist, song_id=song_id).first()
        if entry is None:
            raise NotFound("That song is not in the playlist.")
        entry.delete()
        PlaylistSong.objects.filter(playlist=playlist, position__gt=entry.position).update(position=F("position") - 1)
        playlist.song_count -= 1
        playlist.save(update_fields=["song_count", "updated_at"])
        _changed(playlist)
    return playlist


def playlist_reorder(*, playlist_id: str, user: User, song_ids: list[str]) -> Playlist:
    """Accept only a permutation of the current songs: a client whose view is stale (someone
    added or removed a song meanwhile) gets a 409 instead of silently dropping that song."""
    with transaction.atomic():
        playlist = get_readable(playlist_id, user, lock=True)
        _check_song_editor(playlist, user)
        current = list(PlaylistSong.objects.filter(playlist=playlist).values_list("song_id", flat=True))
        if len(song_ids) != len(current) or set(song_ids) != set(current):
            raise Conflict(
                "songIds must list exactly the playlist's current songs: it changed meanwhile, reload it and try again."
            )
        entries = {e.song_id: e for e in PlaylistSong.objects.filter(playlist=playlist)}
        for position, song_id in enumerate(song_ids):
            entries[song_id].position = position
        PlaylistSong.objects.bulk_update(entries.values(), ["position"], batch_size=1000)
        _changed(playlist)
    return playlist


# --- collaborators --------------------------------------------------------------------------


def collaborator_add(*, playlist_id: str, user: User, email: str) -> Playlist:
    with transaction.atomic():
        playlist = get_readable(playlist_id, user, lock=True)
        _check_owner(playlist, user, "add collaborators")
        invitee = User.objects.filter(email=User.objects.normalize_email(email), is_active=True).first()
        if invitee is None:
            raise NotFound("No account has that email address.")
        if invitee.pk == playlist.owner_id:
            raise InvalidInput("email: you own this playlist already.", errors={"email": ["You own it already."]})
        PlaylistCollaborator.objects.bulk_create(
            [PlaylistCollaborator(playlist=playlist, user=invitee)], ignore_conflicts=True
        )
        _changed(playlist)
    return playlist


def collaborator_remove(*, playlist_id: str, user: User, collaborator_id: str) -> Playlist:
    """The owner removes anyone; a collaborator may remove only themself (leave)."""
    with transaction.atomic():
        playlist = get_readable(playlist_id, user, lock=True)
        if user.pk != playlist.owner_id and user.pk != collaborator_id:
            raise NotAllowed("Only the owner can remove other collaborators.")
        deleted, _ = PlaylistCollaborator.objects.filter(playlist=playlist, user_id=collaborator_id).delete()
        if not deleted:
            raise NotFound("That user is not a collaborator.")
        _changed(playlist, members=[collaborator_id])
    return playlist
