"""Input validation and output shapes of accounts (no side effects here)."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.equalizer import BAND_FREQUENCIES_HZ, BAND_LIMIT_DB, PRESET_NAMES
from accounts.models import AVATAR_SIDE_PX, User, UserSettings
from musicapp.adapters import media
from musicapp.platform import fields


class UserSerializer(serializers.ModelSerializer):
    avatar = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = ["id", "email", "name", "avatar", "bio", "is_email_verified", "created_at"]

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_avatar(self, user: User) -> str | None:
        return media.url(user.avatar, side=AVATAR_SIDE_PX)


class PublicUserSerializer(UserSerializer):
    """How other people see a user (playlist owners, session participants)."""

    class Meta(UserSerializer.Meta):
        fields = ["id", "name", "avatar"]


# --- inputs -------------------------------------------------------------------------------


class EmailInput(serializers.Serializer):
    email = fields.EmailField(max_length=254)


class RegisterInput(EmailInput):
    password = fields.CharField(max_length=128, trim_whitespace=False)
    name = fields.NameField(max_length=100)


class VerifyInput(EmailInput):
    otp = fields.RegexField(r"^\d{6}$", error_messages={"invalid": "Enter the 6-digit code."})


class LoginInput(EmailInput):
    password = fields.CharField(max_length=128, trim_whitespace=False)


class RefreshInput(serializers.Serializer):
    refresh_token = fields.CharField(max_length=2000)


class ResetInput(VerifyInput):
    password = fields.CharField(max_length=128, trim_whitespace=False)


class ProfileInput(serializers.Serializer):
    name = fields.NameField(max_length=100, required=False)
    bio = fields.TextField(max_length=500, required=False, allow_blank=True)


class AvatarInput(serializers.Serializer):
    avatar = serializers.FileField()


class EqualizerSerializer(serializers.Serializer):
    enabled = fields.BooleanField(required=False)
    preset = fields.ChoiceField(choices=PRESET_NAMES, required=False)
    bands = serializers.ListField(
        child=fields.FloatField(min_value=-BAND_LIMIT_DB, max_value=BAND_LIMIT_DB),
        min_length=len(BAND_FREQUENCIES_HZ),
        max_length=len(BAND_FREQUENCIES_HZ),
        required=False,
        help_text=f"{len(BAND_FREQUENCIES_HZ)} gains in dB, for {', '.join(map(str, BAND_FREQUENCIES_HZ))} Hz.",
    )


class SettingsSerializer(fields.StrictModelSerializer):
    crossfade_seconds = fields.IntegerField(min_value=0, max_value=12, required=False)
    equalizer = EqualizerSerializer(required=False)
    language = fields.RegexField(
        r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$",
        max_length=10,
        required=False,
        error_messages={"invalid": "Use a language tag such as en or pt-BR."},
    )

    class Meta:
        model = UserSettings
        fields = [
            "theme",
            "audio_quality",
            "autoplay",
            "crossfade_seconds",
            "normalize_volume",
            "equalizer",
            "shuffle",
            "loop",
            "private_session",
            "language",
        ]
