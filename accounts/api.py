"""The Auth and User sections of API.md: parse, rate-limit, call a service, render."""

from django.conf import settings
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.views import APIView

from accounts import services
from accounts.serializers import (
    AvatarInput,
    EmailInput,
    LoginInput,
    ProfileInput,
    RefreshInput,
    RegisterInput,
    ResetInput,
    SettingsSerializer,
    UserSerializer,
    VerifyInput,
)
from musicapp.platform.errors import TooLarge
from musicapp.platform.net import client_ip
from musicapp.platform.ratelimit import enforce
from musicapp.platform.responses import cached_ok_for_user, envelope_schema, ok, validated
from musicapp.platform.schema import ERROR

ME_CACHE_SECONDS = 3600
SENT_IF_EXISTS = "If that address has an account waiting for a code, we have sent one."


MESSAGE = envelope_schema("MessageResponse", message=serializers.CharField())
USER = envelope_schema("UserResponse", user=UserSerializer())
SIGNED_IN = envelope_schema(
    "SignedInResponse",
    user=UserSerializer(),
    access_token=serializers.CharField(),
    refresh_token=serializers.CharField(),
)
TOKENS = envelope_schema("TokensResponse", access_token=serializers.CharField(), refresh_token=serializers.CharField())
SETTINGS = envelope_schema("SettingsResponse", settings=SettingsSerializer())


def limit(request, flow: str, email: str) -> None:
    """The flow's limits per client IP and per email address (AUTH_RATES)."""
    enforce(request, group=f"auth:{flow}:ip", value=client_ip(request), rate=settings.AUTH_RATES[f"{flow}_ip"])
    enforce(
        request,
        group=f"auth:{flow}:email",
        value=services.auth.normalize_email(email),
        rate=settings.AUTH_RATES[f"{flow}_email"],
    )


def device(request) -> dict:
    return {"ip": client_ip(request), "user_agent": request.headers.get("User-Agent", "")}


def signed_in(result, status: int = 200):
    return ok(
        status,
        user=UserSerializer(result.user).data,
        access_token=result.tokens.access,
        refresh_token=result.tokens.refresh,
    )


class PublicView(APIView):
    permission_classes = [AllowAny]
    authentication_classes = []  # a stale token must not turn sign-in into a 401


@extend_schema(tags=["auth"], request=RegisterInput, responses={201: USER})
class RegisterView(PublicView):
    def post(self, request):
        data = validated(RegisterInput, request)
        limit(request, "register", data["email"])
        user = services.user_register(**data)
        return ok(
            201,
            user=UserSerializer(user).data,
            message="Account created. Enter the 6-digit code we emailed you to verify your address.",
        )


@extend_schema(tags=["auth"], request=VerifyInput, responses={200: SIGNED_IN})
class VerifyOtpView(PublicView):
    def post(self, request):
        data = validated(VerifyInput, request)
        limit(request, "verify", data["email"])
        return signed_in(services.email_verify(email=data["email"], code=data["otp"], **device(request)))


@extend_schema(tags=["auth"], request=EmailInput, responses={200: MESSAGE})
class ResendOtpView(PublicView):
    def post(self, request):
        data = validated(EmailInput, request)
        limit(request, "resend", data["email"])
        # A queued job looks the address up: a known and an unknown one cost this request the
        # same, so the response time cannot tell them apart.
        services.email_code_resend_request(email=data["email"])
        return ok(message=SENT_IF_EXISTS)


@extend_schema(tags=["auth"], request=LoginInput, responses={200: SIGNED_IN, 401: ERROR, 403: ERROR})
class LoginView(PublicView):
    def post(self, request):
        data = validated(LoginInput, request)
        limit(request, "login", data["email"])
        return signed_in(services.user_login(email=data["email"], password=data["password"], **device(request)))


@extend_schema(tags=["auth"], request=RefreshInput, responses={200: TOKENS, 401: ERROR})
class RefreshView(PublicView):
    def post(self, request):
        tokens = services.tokens_refresh(refresh_token=validated(RefreshInput, request)["refresh_token"])
        return ok(access_token=tokens.access, refresh_token=tokens.refresh)


@extend_schema(tags=["auth"], request=RefreshInput, responses={200: MESSAGE, 403: ERROR})
class LogoutView(APIView):
    def post(self, request):
        services.user_logout(user=request.user, refresh_token=validated(RefreshInput, request)["refresh_token"])
        return ok(message="Signed out.")


@extend_schema(tags=["auth"], request=EmailInput, responses={200: MESSAGE})
class ForgotPasswordView(PublicView):
    def post(self, request):
        data = validated(EmailInput, request)
        limit(request, "forgot", data["email"])
        services.password_forgot_request(email=data["email"])  # timing, as in ResendOtpView
        return ok(message="If that address has an account, we have emailed it a code to reset the password.")


@extend_schema(tags=["auth"], request=ResetInput, responses={200: MESSAGE})
class ResetPasswordView(PublicView):
    def post(self, request):
        data = validated(ResetInput, request)
        limit(request, "reset", data["email"])
        services.password_reset(email=data["email"], code=data["otp"], password=data["password"])
        return ok(message="Your password has been changed. Sign in with the new one.")


class MeView(APIView):
    @extend_schema(tags=["user"], responses={200: USER})
    def get(self, request):
        user = request.user
        return cached_ok_for_user(user.pk, "me", "user", lambda: {"user": UserSerializer(user).data}, ME_CACHE_SECONDS)

    @extend_schema(tags=["user"], request=ProfileInput, responses={200: USER})
    def patch(self, request):
        user = services.user_update_profile(user=request.user, **validated(ProfileInput, request))
        return ok(user=UserSerializer(user).data)


@extend_schema(tags=["user"], request={"multipart/form-data": AvatarInput}, responses={200: USER})
class AvatarView(APIView):
    parser_classes = [MultiPartParser]

    def post(self, request):
        # Refuse an oversized upload from its declared length, before reading it.
        if int(request.META.get("CONTENT_LENGTH") or 0) > settings.AVATAR_MAX_BYTES + 64 * 1024:
            raise TooLarge(f"avatar: the file is larger than {settings.AVATAR_MAX_BYTES // (1024 * 1024)} MB.")
        user = services.user_set_avatar(user=request.user, upload=request.FILES.get("avatar"))
        return ok(user=UserSerializer(user).data)


class SettingsView(APIView):
    @extend_schema(tags=["user"], responses={200: SETTINGS})
    def get(self, request):
        return ok(settings=SettingsSerializer(services.user_settings_get(user=request.user)).data)

    @extend_schema(tags=["user"], request=SettingsSerializer, responses={200: SETTINGS})
    def patch(self, request):
        serializer = SettingsSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        row = services.user_settings_update(user=request.user, changes=serializer.validated_data)
        return ok(settings=SettingsSerializer(row).data)
