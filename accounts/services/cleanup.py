"""Deleting what has stopped meaning anything: spent email codes and finished logins."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.models import EmailCode, Login

# A revoked login stays a while, so staff can still see why a device was signed out.
REVOKED_KEPT_DAYS = 30


def expired_delete() -> tuple[int, int]:
    """Codes past their expiry, and logins revoked long ago or whose last refresh token has
    expired (nobody can refresh them any more). Returns (codes, logins) deleted."""
    now = timezone.now()
    codes, _ = EmailCode.objects.filter(expires_at__lt=now).delete()
    refresh_lifetime = settings.SIMPLE_JWT["REFRESH_TOKEN_LIFETIME"]
    logins, _ = (
        Login.objects.annotate(last_used=Coalesce("last_refreshed_at", "created_at"))
        .filter(Q(revoked_at__lt=now - timedelta(days=REVOKED_KEPT_DAYS)) | Q(last_used__lt=now - refresh_lifetime))
        .delete()
    )
    return codes, logins
