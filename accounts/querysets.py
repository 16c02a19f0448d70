"""Read vocabulary of accounts."""

from __future__ import annotations

from typing import TYPE_CHECKING, Self

from django.conf import settings
from django.db import models
from django.utils import timezone

if TYPE_CHECKING:
    from accounts.models import User


class EmailCodeQuerySet(models.QuerySet):
    def usable(self) -> Self:
        """Not used, not expired, not worn out by wrong guesses."""
        return self.filter(used_at__isnull=True, expires_at__gt=timezone.now(), attempts__lt=settings.OTP_MAX_ATTEMPTS)

    def for_purpose(self, user: User, purpose: str) -> Self:
        return self.filter(user=user, purpose=purpose)


class LoginQuerySet(models.QuerySet):
    def active(self) -> Self:
        return self.filter(revoked_at__isnull=True)
