from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

from accounts.equalizer import default_equalizer
from accounts.querysets import EmailCodeQuerySet, LoginQuerySet
from musicapp.platform.models import BaseModel

AVATAR_SIDE_PX = 256  # avatars are shown as square thumbnails of this side


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    @classmethod
    def normalize_email(cls, email: str | None) -> str:
        # The whole address, not only the domain: the SPA's users type it in any case.
        return (email or "").strip().lower()

    def get_by_natural_key(self, email: str | None) -> User:
        return self.get(email=self.normalize_email(email))

    def create_user(self, email: str, password: str | None = None, **fields: Any) -> User:
        user = self.model(email=self.normalize_email(email), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **fields: Any) -> User:
        fields.update(is_staff=True, is_superuser=True, is_email_verified=True)
        return self.create_user(email, password, **fields)


class User(BaseModel, AbstractBaseUser, PermissionsMixin):
    """The person who listens. Email is the login; the id is the ObjectId the SPA knows."""

    email = models.EmailField(max_length=254, unique=True)
    name = models.CharField(max_length=100, blank=True)
    avatar = models.CharField(max_length=500, blank=True, help_text="Media-store key or an external URL.")
    bio = models.CharField(max_length=500, blank=True)
    is_email_verified = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["name"]

    class Meta:
        # Stored lower-case, so the plain unique index is also a case-insensitive one.
        constraints = [
            models.CheckConstraint(condition=models.Q(email=Lower("email")), name="accounts_user_email_lower"),
        ]
        indexes = [models.Index(fields=["created_at", "id"], name="accounts_user_created_idx")]

    def __str__(self) -> str:
        return self.email

    def clean(self):
        super().clean()
        self.email = type(self).objects.normalize_email(self.email)


class EmailCode(BaseModel):
    """A one-time 6-digit code sent by email, stored only as an HMAC of the code."""

    class Purpose(models.TextChoices):
        VERIFY = "verify", "Verify email"
        RESET = "reset", "Reset password"

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="email_codes")
    purpose = models.CharField(max_length=10, choices=Purpose.choices)
    code_hash = models.CharField(max_length=64)
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)

    objects = EmailCodeQuerySet.as_manager()

    class Meta:
        indexes = [models.Index(fields=["user", "purpose", "-created_at"], name="accounts_code_lookup_idx")]

    def __str__(self) -> str:
        return f"{self.purpose} code for {self.user_id}"

    @property
    def is_usable(self) -> bool:
        return self.used_at is None and self.expires_at > timezone.now() and self.attempts < settings.OTP_MAX_ATTEMPTS


class Login(BaseModel):
    """One signed-in device: the chain of refresh tokens that rotate from one login.

    Only the newest refresh token of the chain (refresh_jti) is accepted. Presenting an
    older one means it was copied: the whole login is revoked.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="logins")
    refresh_jti = models.CharField(max_length=64)
    last_refreshed_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_reason = models.CharField(max_length=40, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)

    objects = LoginQuerySet.as_manager()

    class Meta:
        indexes = [models.Index(fields=["user", "revoked_at"], name="accounts_login_user_idx")]

    def __str__(self) -> str:
        return f"login {self.pk} of {self.user_id}"


class UserSettings(BaseModel):
    """Player and app preferences; one row per user, made with the defaults on first read."""

    class Theme(models.TextChoices):
        DARK = "dark"
        LIGHT = "light"
        SYSTEM = "system"

    class AudioQuality(models.TextChoices):
        LOW = "low"
        NORMAL = "normal"
        HIGH = "high"
        VERY_HIGH = "very_high"

    class Loop(models.TextChoices):
        OFF = "off"
        ONE = "one"
        ALL = "all"

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="settings")
    theme = models.CharField(max_length=10, choices=Theme.choices, default=Theme.DARK)
    audio_quality = models.CharField(max_length=10, choices=AudioQuality.choices, default=AudioQuality.HIGH)
    autoplay = models.BooleanField(default=True)
    crossfade_seconds = models.PositiveSmallIntegerField(default=0)
    normalize_volume = models.BooleanField(default=True)
    equalizer = models.JSONField(default=default_equalizer)
    shuffle = models.BooleanField(default=False)
    loop = models.CharField(max_length=3, choices=Loop.choices, default=Loop.OFF)
    private_session = models.BooleanField(default=False)
    language = models.CharField(max_length=10, default="en")

    class Meta:
        verbose_name_plural = "user settings"
        constraints = [
            models.CheckConstraint(condition=models.Q(crossfade_seconds__lte=12), name="accounts_settings_crossfade"),
        ]

    def __str__(self) -> str:
        return f"settings of {self.user_id}"
