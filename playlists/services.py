"""Every write on playlists.

Song edits (add, remove, reorder) hold a row lock on the playlist for their transaction, so
concurrent edits queue instead of interleaving: positions stay a dense 0..n-1 and nothing
is lost or duplicated. After commit, caches are dropped and listeners get the new state.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from accounts.models import User
from library.models import Song
from musicapp.adapters import media
from musicapp.platform import indexing, realtime, scoped_cache
from musicapp.platform.errors import Conflict, InvalidInput, NotAllowed, NotFound
from musicapp.platform.jobs import enqueue
from musicapp.platform.ratelimit import enforce
from playlists.models import (
    INVITATION_DAYS,
    MAX_SONGS,
    Playlist,
    PlaylistCollaborator,
    PlaylistInvitation,
    PlaylistSong,
)

BANNER_SIDE_PX = 600


def group_name(playlist_id: str) -> str:
    return f"playlist.{playlist_id}"


# --- permissions (the rules themselves are PlaylistQuerySet.visible_to / editable_by) ---------


def can_read(playlist: Playlist, user: Any) -> bool:
    return Playlist.objects.visible_to(user).filter(pk=playlist.pk).exists()


def get_readable(playlist_id: str, user: Any, *, lock: bool = False) -> Playlist:
    """The playlist if the user may read it; 404 otherwise, so strangers learn nothing."""
    playlists = Playlist.objects.visible_to(user)
    playlist = (playlists.select_for_update(of=("self",)) if lock else playlists).filter(pk=playlist_id).first()
    if playlist is None:
        raise NotFound("No such playlist.")
    return playlist


def _check_owner(playlist: Playlist, user: User, action: str) -> None:
    if playlist.owner_id != user.pk:
        raise NotAllowed(f"Only the playlist's owner can {action}.")


def _check_song_editor(playlist: Playlist, user: User) -> None:
    if not Playlist.objects.editable_by(user).filter(pk=playlist.pk).exists():
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
    indexing.changed("playlist", [playlist_id])  # a public one is found; a private one no more


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
            # The frame rendered once here, not once per listener (json.dumps of a playlist for
            # each of thousands of sockets); the same keys as the REST object.
            "frame": json.dumps(
                {"type": "playlist:update", "data": {"playlist": camelize(PlaylistSerializer(playlist).data)}}
            ),
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


def playlist_create_with_songs(
    *, owner: User, name: str, desc: str = "", entries: list[tuple[str, str | None]]
) -> Playlist:
    """A private playlist made whole, e.g. a listening session's recap: `entries` are (song id,
    who added it) in order; a song listed twice is kept at its first place (a playlist holds a
    song once), songs gone from the catalog are left out."""
    existing = set(Song.objects.filter(pk__in=[song_id for song_id, _ in entries]).values_list("pk", flat=True))
    kept: dict[str, str | None] = {}
    for song_id, added_by_id in entries:
        if song_id in existing and song_id not in kept and len(kept) < MAX_SONGS:
            kept[song_id] = added_by_id
    with transaction.atomic():
        playlist = Playlist.objects.create(owner=owner, name=name[:100], desc=desc[:300], song_count=len(kept))
        PlaylistSong.objects.bulk_create(
            PlaylistSong(playlist=playlist, song_id=song_id, position=position, added_by_id=added_by_id)
            for position, (song_id, added_by_id) in enumerate(kept.items())
        )
        _changed(playlist)
    return playlist


def playlist_update(*, playlist_id: str, user: User, **fields: Any) -> Playlist:
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
        _delete(playlist)


def _delete(playlist: Playlist) -> None:
    """Delete under the caller's row lock; after commit, caches drop and listeners are told."""
    playlist_id, members, was_public, banner = playlist.pk, _member_ids(playlist), playlist.is_public, playlist.banner
    playlist.delete()
    scoped_cache.changed_on_commit(f"playlist:{playlist_id}")
    if was_public:
        scoped_cache.changed_on_commit("public_playlists")
    for user_id in members:
        scoped_cache.user_changed_on_commit(user_id, "playlists")
    media.delete_on_commit(banner)
    realtime.send_on_commit(group_name(playlist_id), {"type": "playlist.deleted", "id": playlist_id})
    # Search hears of the delete from its post_delete receiver (which cascades reach too).


def playlist_set_banner(*, playlist_id: str, user: User, upload: UploadedFile | None) -> Playlist:
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


def collaborator_invite(*, playlist_id: str, user: User, email: str) -> Playlist:
    """Invite an address to collaborate (owner only). The answer, and what the owner sees, are
    the same whether or not the address has an account: the invitee accepts once signed in
    with it (invitation_accept). Re-inviting renews the invitation and its email."""
    email = User.objects.normalize_email(email)
    enforce(None, group="playlists:invite", value=user.pk, rate=settings.INVITE_RATE)
    with transaction.atomic():
        playlist = get_readable(playlist_id, user, lock=True)
        _check_owner(playlist, user, "invite collaborators")
        if email == user.email:
            raise InvalidInput("email: you own this playlist already.", errors={"email": ["You own it already."]})
        expires_at = timezone.now() + timedelta(days=INVITATION_DAYS)
        PlaylistInvitation.objects.update_or_create(
            playlist=playlist, email=email, defaults={"invited_by": user, "expires_at": expires_at}
        )
        enqueue(
            "mail.send_templated",
            to=email,
            subject=f"{user.name or 'Someone'} invited you to collaborate on a playlist",
            template="playlists/email/invitation",
            context={"inviter": user.name or "Someone", "playlist": playlist.name, "days": INVITATION_DAYS},
        )
    return playlist


def invitation_accept(*, invitation_id: str, user: User) -> Playlist:
    """The invitee joins: the invitation becomes a collaborator link. Holds the playlist's lock."""
    with transaction.atomic():
        invitation = (
            PlaylistInvitation.objects.for_invitee(user)
            .select_for_update(of=("self",))
            .filter(pk=invitation_id)
            .first()
        )
        if invitation is None:
            raise NotFound("No such invitation, or it has lapsed.")
        playlist = _locked(invitation.playlist_id)
        invitation.delete()
        if playlist.owner_id != user.pk:
            _collaborator_link(playlist, user.pk)
    return playlist


def invitation_decline(*, invitation_id: str, user: User) -> None:
    deleted, _ = PlaylistInvitation.objects.for_invitee(user).filter(pk=invitation_id).delete()
    if not deleted:
        raise NotFound("No such invitation, or it has lapsed.")


def invitation_cancel(*, playlist_id: str, user: User, invitation_id: str) -> None:
    """The owner takes an invitation back."""
    with transaction.atomic():
        playlist = get_readable(playlist_id, user, lock=True)
        _check_owner(playlist, user, "cancel invitations")
        deleted, _ = PlaylistInvitation.objects.filter(playlist=playlist, pk=invitation_id).delete()
        if not deleted:
            raise NotFound("No such invitation.")


def invitations_expired_delete() -> int:
    deleted, _ = PlaylistInvitation.objects.filter(expires_at__lte=timezone.now()).delete()
    return deleted


def _collaborator_link(playlist: Playlist, user_id: str) -> None:
    PlaylistCollaborator.objects.bulk_create(
        [PlaylistCollaborator(playlist=playlist, user_id=user_id)], ignore_conflicts=True
    )
    _changed(playlist)


def collaborator_remove(*, playlist_id: str, user: User, collaborator_id: str) -> Playlist:
    """The owner removes anyone; a collaborator may remove only themself (leave)."""
    with transaction.atomic():
        playlist = get_readable(playlist_id, user, lock=True)
        if user.pk != playlist.owner_id and user.pk != collaborator_id:
            raise NotAllowed("Only the owner can remove other collaborators.")
        if not _collaborator_unlink(playlist, collaborator_id):
            raise NotFound("That user is not a collaborator.")
    return playlist


def _collaborator_unlink(playlist: Playlist, user_id: str) -> bool:
    deleted, _ = PlaylistCollaborator.objects.filter(playlist=playlist, user_id=user_id).delete()
    if deleted:
        _changed(playlist, members=[user_id])
    return bool(deleted)


# --- staff (the admin) ----------------------------------------------------------------------
# Staff act with the admin's permissions instead of an owner's, and their changes have the same
# after-effects as the owner's: caches drop, listeners hear of it, search will be told.


def _locked(playlist_id: str) -> Playlist:
    return Playlist.objects.select_for_update().get(pk=playlist_id)


def playlist_staff_save(*, playlist: Playlist) -> Playlist:
    """Create or edit a playlist as staff (name, visibility, owner...). Holds the row lock."""
    with transaction.atomic():
        before = None if playlist._state.adding else _locked(playlist.pk)
        playlist.save()
        if before is None:
            _changed(playlist)
        else:
            _changed(playlist, was_public=before.is_public, members=_member_ids(before))
    return playlist


def playlist_staff_delete(*, playlist_id: str) -> None:
    with transaction.atomic():
        _delete(_locked(playlist_id))


def collaborator_staff_add(*, playlist_id: str, user_id: str) -> None:
    with transaction.atomic():
        _collaborator_link(_locked(playlist_id), user_id)


def collaborator_staff_remove(*, playlist_id: str, user_id: str) -> None:
    with transaction.atomic():
        _collaborator_unlink(_locked(playlist_id), user_id)
