"""JWTs (simplejwt). A refresh token names its Login ("sid"); access tokens copy that claim.

simplejwt's CHECK_REVOKE_TOKEN puts a digest of the password hash in both, so changing the
password invalidates every token, access tokens included, at once.
"""

from dataclasses import dataclass

from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.tokens import RefreshToken, TokenError
from rest_framework_simplejwt.utils import get_md5_hash_password

from accounts.models import Login, User
from musicapp.platform.errors import TokenInvalid

INVALID_REFRESH = "The refresh token is invalid or expired. Sign in again."


@dataclass(frozen=True)
class TokenPair:
    access: str
    refresh: str
    jti: str


def issue_pair(user: User, login: Login) -> TokenPair:
    refresh = RefreshToken.for_user(user)
    refresh["sid"] = login.pk
    return TokenPair(access=str(refresh.access_token), refresh=str(refresh), jti=refresh[api_settings.JTI_CLAIM])


def read_refresh(raw: str) -> RefreshToken:
    """A refresh token with a valid signature that has not expired, or TokenInvalid."""
    try:
        token = RefreshToken(raw)  # type: ignore[arg-type]  # (the stubs say Token only)
    except TokenError as exc:
        raise TokenInvalid(INVALID_REFRESH) from exc
    if "sid" not in token:
        raise TokenInvalid(INVALID_REFRESH)
    return token


def matches_password(token: RefreshToken, user: User) -> bool:
    return token.get(api_settings.REVOKE_TOKEN_CLAIM) == get_md5_hash_password(user.password)
