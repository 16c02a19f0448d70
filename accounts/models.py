from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.db.models.functions import Lower

from musicapp.models import BaseModel


class UserManager(BaseUserManager):
    use_in_migrations = True

    @classmethod
    def normalize_email(cls, email: str | None) -> str:
        # The whole address, not only the domain: the SPA's users type it in any case.
        return (email or "").strip().lower()

    def get_by_natural_key(self, email):
        return self.get(email=self.normalize_email(email))

    def create_user(self, email: str, password: str | None = None, **fields):
        user = self.model(email=self.normalize_email(email), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **fields):
        fields.update(is_staff=True, is_superuser=True, is_email_verified=True)
        return self.create_user(email, password, **fields)


class User(BaseModel, AbstractBaseUser, PermissionsMixin):
    """The person who listens. Email is the login; the id is the ObjectId the SPA knows."""

    email = models.EmailField(max_length=254, unique=True)
    name = models.CharField(max_length=100, blank=True)
    avatar = models.CharField(max_length=500, blank=True, help_text="Avatar URL or media-store key.")
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
