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
        """Everything the session JSON shows, in three queries."""
        from listening_sessions.models import QueueItem, SessionParticipant

        return self.select_related("host", "current_song").prefetch_related(
            Prefetch(
                "participants",
                queryset=SessionParticipant.objects.present().select_related("user").order_by("joined_at", "id"),
                to_attr="present",
            ),
            Prefetch("queue", queryset=QueueItem.objects.order_by("position"), to_attr="queued"),
        )


class ParticipantQuerySet(models.QuerySet):
    def present(self) -> Self:
        return self.filter(left_at__isnull=True)

    def members(self) -> Self:
        """In the session now or before, and not removed by the host."""
        return self.filter(removed_at__isnull=True)

    def user_ids(self) -> list[str]:
        return list(self.values_list("user_id", flat=True))


class ChatMessageQuerySet(models.QuerySet):
    def for_api(self) -> Self:
        return self.select_related("user")
