"""Read vocabulary of playlists, and the one place the read and edit rules are written."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import models
from django.db.models import Exists, OuterRef, Prefetch, Q
from django.utils import timezone

if TYPE_CHECKING:
    from accounts.models import User


def _collaborating(user: User) -> Exists:
    from playlists.models import PlaylistCollaborator

    return Exists(PlaylistCollaborator.objects.filter(playlist=OuterRef("pk"), user=user))


class PlaylistQuerySet(models.QuerySet):
    def visible_to(self, user: Any) -> PlaylistQuerySet:
        """Who may read a playlist: anyone if public; its owner and collaborators if private."""
        if user is None or not user.is_authenticated:
            return self.filter(is_public=True)
        return self.filter(Q(is_public=True) | Q(owner=user) | _collaborating(user))

    def editable_by(self, user: Any) -> PlaylistQuerySet:
        """Who may change a playlist's songs: its owner, and its collaborators while it is collaborative."""
        if user is None or not user.is_authenticated:
            return self.none()
        return self.filter(Q(owner=user) | (Q(collaborative=True) & _collaborating(user)))

    def of_member(self, user: User) -> PlaylistQuerySet:
        """Owned or collaborating on (the caller's list)."""
        return self.filter(Q(owner=user) | _collaborating(user))

    def for_api(self) -> PlaylistQuerySet:
        """Everything the playlist JSON shows, in three queries for any number of playlists."""
        from playlists.models import PlaylistSong

        return self.select_related("owner").prefetch_related(
            "collaborators",
            Prefetch("entries", queryset=PlaylistSong.objects.order_by("position").only("playlist_id", "song_id")),
        )


class PlaylistInvitationQuerySet(models.QuerySet):
    def pending(self) -> PlaylistInvitationQuerySet:
        return self.filter(expires_at__gt=timezone.now())

    def for_invitee(self, user: User) -> PlaylistInvitationQuerySet:
        """The caller's own: addressed to their (verified) email, still pending."""
        return self.pending().filter(email=user.email).select_related("playlist__owner", "invited_by")
