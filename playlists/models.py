from django.conf import settings
from django.db import models
from django.db.models import Deferrable, Q

from musicapp.platform.models import BaseModel
from playlists.querysets import PlaylistInvitationQuerySet, PlaylistQuerySet

MAX_SONGS = 10_000
INVITATION_DAYS = 30


class Playlist(BaseModel):
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="playlists", db_index=False
    )
    name = models.CharField(max_length=100)
    desc = models.CharField(max_length=300, blank=True)
    banner = models.CharField(max_length=500, blank=True, help_text="Media-store key or an external URL.")
    is_public = models.BooleanField(default=False)
    collaborative = models.BooleanField(default=False)
    # Kept by the services under the playlist's row lock, so lists need no COUNT per playlist.
    song_count = models.PositiveIntegerField(default=0)
    collaborators: models.ManyToManyField = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="PlaylistCollaborator", related_name="collaborating_on"
    )

    objects = PlaylistQuerySet.as_manager()

    class Meta:
        indexes = [
            models.Index(fields=["owner", "-created_at", "-id"], name="playlists_owner_idx"),
            models.Index(fields=["-created_at", "-id"], condition=Q(is_public=True), name="playlists_public_idx"),
        ]

    def __str__(self) -> str:
        return self.name


class PlaylistCollaborator(BaseModel):
    playlist = models.ForeignKey(Playlist, on_delete=models.CASCADE, related_name="collaborator_links")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["playlist", "user"], name="playlists_collaborator_unique")]
        indexes = [models.Index(fields=["user", "playlist"], name="playlists_collab_user_idx")]


class PlaylistSong(BaseModel):
    """A song at a position (0..n-1, dense) in a playlist, and who added it."""

    playlist = models.ForeignKey(Playlist, on_delete=models.CASCADE, related_name="entries", db_index=False)
    song = models.ForeignKey("library.Song", on_delete=models.CASCADE, related_name="+")
    position = models.PositiveIntegerField()
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["playlist", "song"], name="playlists_song_once"),
            # Deferred to the end of the transaction, so that shifting or permuting positions
            # in one UPDATE never trips over a row that has not moved yet.
            models.UniqueConstraint(
                fields=["playlist", "position"], name="playlists_position_unique", deferrable=Deferrable.DEFERRED
            ),
        ]


class PlaylistInvitation(BaseModel):
    """An owner's invitation to collaborate, by email address. Whether the address has an
    account is never told to the owner: the invitee accepts (or declines) once signed in with
    that address, and the invitation lapses after INVITATION_DAYS."""

    playlist = models.ForeignKey(Playlist, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField(max_length=254)
    invited_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    expires_at = models.DateTimeField()

    objects = PlaylistInvitationQuerySet.as_manager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["playlist", "email"], name="playlists_invitation_once")]
        indexes = [models.Index(fields=["email", "expires_at"], name="playlists_invitation_email_idx")]

    def __str__(self) -> str:
        return f"invitation to {self.email} for {self.playlist_id}"
