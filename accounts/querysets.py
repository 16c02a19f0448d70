from django.conf import settings
from django.db import models
from django.utils import timezone


class EmailCodeQuerySet(models.QuerySet):
    def usable(self):
        """Not used, not expired, not worn out by wrong guesses."""
        return self.filter(used_at__isnull=True, expires_at__gt=timezone.now(), attempts__lt=settings.OTP_MAX_ATTEMPTS)

    def for_purpose(self, user, purpose: str):
        return self.filter(user=user, purpose=purpose)


class LoginQuerySet(models.QuerySet):
    def active(self):
        return self.filter(revoked_at__isnull=True)
