"""Listening sessions ("listening parties"): synced playback, a shared queue, chat (WS.md).

The session row is the truth of what plays: the current song, the position it had at
`position_set_at` (server time), and whether it is playing. Every command changes it under a
row lock, and `revision` counts the changes, so a client can drop an update older than one it
has. Nothing about playback lives only in a server process or in Redis: a restart, or a
reconnect to another process, loses nothing.
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import models
from django.db.models import Deferrable, Q
from django.utils import timezone

from listening_sessions.querysets import ChatMessageQuerySet, ParticipantQuerySet, SessionQuerySet
from musicapp.platform.models import BaseModel

# Join codes are read aloud and typed on phones: no 0/O, 1/I.
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 6
MAX_PARTICIPANTS = 50
MAX_HOSTED_ACTIVE = 3
MAX_QUEUE = 500
EMOJI_MAX_LENGTH = 16


class ListeningSession(BaseModel):
    class Loop(models.TextChoices):
        OFF = "off"
        ONE = "one"
        ALL = "all"

    class EndReason(models.TextChoices):
        HOST = "ended_by_host", "Ended by the host"
        EXPIRED = "expired", "Expired"
        STAFF = "ended_by_staff", "Ended by staff"

    # New codes have CODE_LENGTH characters; sessions imported from MongoDB keep longer ones.
    code = models.CharField(max_length=24)
    name = models.CharField(max_length=100, blank=True)
    host = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="hosted_sessions")
    is_active = models.BooleanField(default=True)
    current_song = models.ForeignKey("library.Song", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    current_added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    position = models.FloatField(default=0.0, help_text="Seconds into the song at position_set_at.")
    position_set_at = models.DateTimeField(default=timezone.now)
    is_playing = models.BooleanField(default=False)
    shuffle = models.BooleanField(default=False)
    loop = models.CharField(max_length=3, choices=Loop.choices, default=Loop.OFF)
    guests_can_control = models.BooleanField(default=False)
    # The democratic queue: guests' additions interleaved round-robin; at most queue_limit songs
    # queued per user (none: no limit); the current song skipped once more than skip_share of
    # those present voted for it.
    fair_queue = models.BooleanField(default=False)
    queue_limit = models.PositiveSmallIntegerField(null=True, blank=True)
    skip_share = models.FloatField(default=0.5)
    # Counts the songs the session has started: votes and readiness are about one of them.
    track = models.PositiveIntegerField(default=0)
    revision = models.PositiveBigIntegerField(default=0)
    expires_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.CharField(max_length=20, choices=EndReason.choices, blank=True)

    objects = SessionQuerySet.as_manager()

    class Meta:
        constraints = [
            # A code names one active session; ended ones give theirs back.
            models.UniqueConstraint(fields=["code"], condition=Q(is_active=True), name="sessions_active_code_unique"),
            models.CheckConstraint(condition=Q(position__gte=0), name="sessions_position_positive"),
            models.CheckConstraint(
                condition=Q(skip_share__gte=0) & Q(skip_share__lt=1), name="sessions_skip_share_range"
            ),
        ]
        indexes = [
            models.Index(fields=["code", "-created_at"], name="sessions_code_idx"),
            models.Index(fields=["expires_at"], condition=Q(is_active=True), name="sessions_expiry_idx"),
            models.Index(fields=["host", "is_active"], name="sessions_host_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.code} ({self.name or 'unnamed'})"

    def start_at(self, moment: datetime) -> datetime | None:
        """When playing is scheduled to start, if that is still ahead of `moment` (start
        together: position_set_at lies in the future until then)."""
        return self.position_set_at if self.is_playing and self.position_set_at > moment else None

    def position_at(self, moment: datetime) -> float:
        """Where the song is at `moment`: it moves on from position_set_at while playing (and
        stays put until a scheduled start)."""
        if not self.is_playing:
            return self.position
        elapsed = max(0.0, (moment - self.position_set_at).total_seconds())
        position = self.position + elapsed
        duration = self.current_song.duration if self.current_song_id and self.current_song else None
        return min(position, duration) if duration else position


class SessionParticipant(BaseModel):
    """Someone in a session: joined_at, and left_at once they left (rejoining clears it).
    removed_at: the host removed them; only an invite made after that lets them back in.
    wants_recap: they asked for the session's recap playlist (the host always gets one)."""

    session = models.ForeignKey(ListeningSession, on_delete=models.CASCADE, related_name="participants")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    joined_at = models.DateTimeField(default=timezone.now)
    left_at = models.DateTimeField(null=True, blank=True)
    removed_at = models.DateTimeField(null=True, blank=True)
    wants_recap = models.BooleanField(default=False)
    recap = models.ForeignKey("playlists.Playlist", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    objects = ParticipantQuerySet.as_manager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["session", "user"], name="sessions_participant_once")]
        indexes = [models.Index(fields=["user", "left_at"], name="sessions_participant_user_idx")]

    def __str__(self) -> str:
        return f"{self.user_id} in {self.session_id}"


class QueueItem(BaseModel):
    """A song waiting to play, at a dense position 0..n-1, and who added it (a song may be
    queued more than once)."""

    session = models.ForeignKey(ListeningSession, on_delete=models.CASCADE, related_name="queue", db_index=False)
    song = models.ForeignKey("library.Song", on_delete=models.CASCADE, related_name="+")
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    position = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["session", "position"], name="sessions_queue_position", deferrable=Deferrable.DEFERRED
            ),
        ]


class PlayedItem(BaseModel):
    """A song the session played (what `playback:prev` goes back to, and the session's history)."""

    session = models.ForeignKey(ListeningSession, on_delete=models.CASCADE, related_name="played", db_index=False)
    song = models.ForeignKey("library.Song", on_delete=models.CASCADE, related_name="+")
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    played_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["session", "-played_at", "-id"], name="sessions_played_idx")]


class SkipVote(BaseModel):
    """A participant's vote to skip the session's song number `track` (once per user and song)."""

    session = models.ForeignKey(ListeningSession, on_delete=models.CASCADE, related_name="skip_votes", db_index=False)
    track = models.PositiveIntegerField()
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["session", "track", "user"], name="sessions_skip_vote_once")]


class Reaction(BaseModel):
    """An emoji a participant sent, pinned to the song and the second it was playing at."""

    session = models.ForeignKey(ListeningSession, on_delete=models.CASCADE, related_name="reactions", db_index=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    song = models.ForeignKey("library.Song", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    position = models.FloatField(default=0.0)
    emoji = models.CharField(max_length=EMOJI_MAX_LENGTH)

    class Meta:
        indexes = [models.Index(fields=["session", "-created_at", "-id"], name="sessions_reaction_idx")]


class ChatMessage(BaseModel):
    session = models.ForeignKey(ListeningSession, on_delete=models.CASCADE, related_name="messages", db_index=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    text = models.TextField(max_length=1000)

    objects = ChatMessageQuerySet.as_manager()

    class Meta:
        indexes = [models.Index(fields=["session", "-created_at", "-id"], name="sessions_chat_idx")]

    def __str__(self) -> str:
        return self.text[:40]
