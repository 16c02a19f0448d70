"""WebSocket authentication: the access token comes in the query string (?token=), since
browsers cannot set headers on a WebSocket. Sets scope["user"] (AnonymousUser if absent or
invalid) and scope["token_error"] when a token was given but refused."""

from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from django.contrib.auth.models import AnonymousUser
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError


@database_sync_to_async
def _user_for(raw_token: str):
    auth = JWTAuthentication()
    try:
        return auth.get_user(auth.get_validated_token(raw_token.encode()))
    except (InvalidToken, TokenError, AuthenticationFailed):
        return None


class JWTQueryStringMiddleware:
    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        token = parse_qs(scope.get("query_string", b"").decode()).get("token", [""])[0]
        user = await _user_for(token) if token else None
        scope = {**scope, "user": user or AnonymousUser(), "token_error": bool(token) and user is None}
        return await self.app(scope, receive, send)
