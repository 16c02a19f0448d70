"""Read vocabulary of listening sessions."""

from __future__ import annotations

from typing import Self

from django.db import models
from django.db.models import Prefetch
from django.utils import timezone


class SessionQuerySet(models.QuerySet):
    def active(self) -> Self:
        return self.filter(is_active=True)

    def with_code(self, code: str) -> Self:
        """The session a code names: the active one, else the latest that had it (ended)."""
        return self.filter(code=code.upper()).order_by("-is_active", "-created_at")

    def expired(self) -> Self:
        return self.active().filter(expires_at__lte=timezone.now())

    def for_api(self) -> Self:
        """Everything the session JSON shows, in three queries (the third is its participants'
        `public_rows`, read by the serializer)."""
        from listening_sessions.models import QueueItem

        return self.select_related("host", "current_song").prefetch_related(
            Prefetch("queue", queryset=QueueItem.objects.order_by("position"), to_attr="queued"),
        )


class ParticipantQuerySet(models.QuerySet):
    def present(self) -> Self:
        return self.filter(left_at__isnull=True)

    def members(self) -> Self:
        """In the session now or before, and not removed by the host."""
        return self.filter(removed_at__isnull=True)

    def public_rows(self) -> list[tuple[str, str, str]]:
        """(user id, name, avatar) of those present, first come first: what a session's
        participant list shows. Rows, not models: every socket that joins is sent the list, and
        building 50 participants and 50 users as models, then serializing them, was most of a
        join's CPU (a join storm, docs/RELIABILITY.md)."""
        return list(self.present().order_by("joined_at", "id").values_list("user_id", "user__name", "user__avatar"))

    def user_ids(self) -> list[str]:
        return list(self.values_list("user_id", flat=True))


class ChatMessageQuerySet(models.QuerySet):
    def for_api(self) -> Self:
        return self.select_related("user")
