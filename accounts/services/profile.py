"""Profile, avatar, settings, and the staff actions on accounts."""

from __future__ import annotations

from collections.abc import Collection

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction

from accounts.equalizer import CUSTOM, PRESETS
from accounts.models import AVATAR_SIDE_PX, EmailCode, User, UserSettings
from accounts.services.auth import email_code_request, logins_revoke_all
from musicapp.adapters import media
from musicapp.platform import scoped_cache
from musicapp.platform.errors import InvalidInput


def _drop_me_cache(user: User) -> None:
    """What /api/user/me shows (cached per user) is stale once this transaction commits."""
    scoped_cache.user_changed_on_commit(user.pk, "me")


def user_update_profile(*, user: User, name: str | None = None, bio: str | None = None) -> User:
    fields = {k: v for k, v in {"name": name, "bio": bio}.items() if v is not None}
    if fields:
        with transaction.atomic():
            for field, value in fields.items():
                setattr(user, field, value)
            user.save(update_fields=[*fields, "updated_at"])
            _drop_me_cache(user)
    return user


def user_set_avatar(*, user: User, upload: UploadedFile | None) -> User:
    """Store a new avatar (checked by content, at most AVATAR_MAX_BYTES) and drop the old file."""
    image = media.check_image(upload, field="avatar", max_bytes=settings.AVATAR_MAX_BYTES)
    key = media.store_square_image(image, folder=f"avatars/{user.pk}", side=AVATAR_SIDE_PX)
    try:
        with transaction.atomic():
            old = User.objects.select_for_update().values_list("avatar", flat=True).get(pk=user.pk)
            user.avatar = key
            user.save(update_fields=["avatar", "updated_at"])
            if old and old != key:
                media.delete_on_commit(old)
            _drop_me_cache(user)
    except Exception:
        media.delete_now(key)  # nothing half-saved: the row did not change, so the file goes
        raise
    return user


def user_settings_get(*, user: User) -> UserSettings:
    """The user's settings, created with the defaults on first read."""
    return UserSettings.objects.get_or_create(user=user)[0]


def _merged_equalizer(current: dict, change: dict) -> dict:
    merged = {**current, **change}
    preset = change.get("preset")
    if "bands" in change:
        if preset is None:
            merged["preset"] = CUSTOM
        elif preset != CUSTOM and list(change["bands"]) != [float(b) for b in PRESETS[preset]]:
            text = f'These bands are not the "{preset}" preset; send preset "custom" with your own bands.'
            raise InvalidInput(f"equalizer.bands: {text}", errors={"equalizer.bands": [text]})
    elif preset is not None and preset != CUSTOM:
        merged["bands"] = [float(b) for b in PRESETS[preset]]
    return merged


def user_settings_update(*, user: User, changes: dict) -> UserSettings:
    """Apply validated changes; a named equalizer preset fills the bands. Holds a row lock."""
    with transaction.atomic():
        current = user_settings_get(user=user)
        row = UserSettings.objects.select_for_update().get(pk=current.pk)
        for field, value in changes.items():
            if field == "equalizer":
                value = _merged_equalizer(row.equalizer, value)
            setattr(row, field, value)
        row.save()
    return row


# --- staff actions (admin) ----------------------------------------------------------------


def user_mark_verified(*, user: User) -> None:
    with transaction.atomic():
        user.is_email_verified = True
        user.save(update_fields=["is_email_verified", "updated_at"])
        EmailCode.objects.filter(user=user, purpose=EmailCode.Purpose.VERIFY).delete()
        _drop_me_cache(user)


def user_deactivate(*, user: User) -> None:
    """Lock the account: its access tokens stop working at once (is_active is checked on
    every request) and every refresh token is revoked."""
    with transaction.atomic():
        user.is_active = False
        user.save(update_fields=["is_active", "updated_at"])
        logins_revoke_all(user=user, reason="deactivated")
        _drop_me_cache(user)


def user_staff_save(*, user: User, changed: Collection[str]) -> User:
    """Staff create or edit an account in the admin. Unticking "active" signs it out everywhere,
    as the deactivate action does; what /api/user/me shows is fresh at once."""
    with transaction.atomic():
        user.save()
        if "is_active" in changed and not user.is_active:
            logins_revoke_all(user=user, reason="deactivated")
        _drop_me_cache(user)
    return user


def user_resend_code(*, user: User) -> None:
    """Staff resend: a new verification code even inside the user's resend cooldown."""
    email_code_request(user=user, purpose=EmailCode.Purpose.VERIFY, ignore_cooldown=True)
