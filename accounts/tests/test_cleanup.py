"""The nightly clean-up of spent email codes and finished logins (accounts.cleanup job)."""

import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from accounts.models import EmailCode, Login
from accounts.tasks import cleanup_accounts

pytestmark = pytest.mark.django_db


def code(user, *, expires_in_minutes: int) -> EmailCode:
    return EmailCode.objects.create(
        user=user, purpose="verify", code_hash="x", expires_at=timezone.now() + timedelta(minutes=expires_in_minutes)
    )


def test_expired_codes_go_and_live_ones_stay(listener):
    expired, live = code(listener, expires_in_minutes=-1), code(listener, expires_in_minutes=5)
    cleanup_accounts(timestamp=0)
    assert list(EmailCode.objects.all()) == [live]
    assert not EmailCode.objects.filter(pk=expired.pk).exists()


def test_logins_nobody_can_refresh_any_more_go(listener, settings):
    now = timezone.now()
    lifetime = settings.SIMPLE_JWT["REFRESH_TOKEN_LIFETIME"]
    current = Login.objects.create(user=listener, refresh_jti="a", last_refreshed_at=now - timedelta(hours=1))
    expired = Login.objects.create(user=listener, refresh_jti="b", created_at=now - lifetime - timedelta(days=1))
    lately_revoked = Login.objects.create(user=listener, refresh_jti="c", revoked_at=now - timedelta(days=1))
    long_revoked = Login.objects.create(user=listener, refresh_jti="d", revoked_at=now - timedelta(days=31))
    out = io.StringIO()
    call_command("cleanup_accounts", stdout=out)
    assert set(Login.objects.values_list("pk", flat=True)) == {current.pk, lately_revoked.pk}
    assert "2 finished login(s)" in out.getvalue()
    assert not Login.objects.filter(pk__in=[expired.pk, long_revoked.pk]).exists()
