"""One error shape for everything the app can answer (API.md), plus a stable machine code:

    {"success": false, "code": "<code>", "message": "<human text>", "errors": {"<field>": ["<text>", ...]}}

Clients branch on `code`, never on the words (zulip's JsonableError does the same). Every code
is a DomainError subclass here or in an app (accounts.errors): services raise them, and
musicapp.platform.handlers turns framework exceptions (DRF's, Django's, a dead Redis) into them,
so one renderer answers every error. docs/ERRORS.md and the OpenAPI schema list all codes.
"""

from __future__ import annotations

import json


class DomainError(Exception):
    """The request could not be processed."""

    status = 400
    code = "bad_request"
    message = "The request could not be processed."

    def __init__(self, message: str | None = None, *, errors: dict[str, list[str]] | None = None):
        self.message = message or type(self).message
        self.errors = errors
        super().__init__(self.message)

    def headers(self) -> dict[str, str]:
        return {}


class InvalidInput(DomainError):
    """A field is missing or invalid; `errors` says which, by camelCase field path."""

    status, code, message = 400, "validation_error", "Invalid input."


class MalformedBody(DomainError):
    """The body could not be read at all (not JSON, nested too deep, too many fields or files)."""

    status, code, message = 400, "parse_error", "The request body could not be read."


class Unauthorized(DomainError):
    """No credentials were sent, or they did not prove who the caller is."""

    status, code, message = 401, "not_authenticated", "Authentication credentials were not provided."


class AuthenticationFailed(Unauthorized):
    """The credentials were refused (e.g. the account was deactivated)."""

    code, message = "authentication_failed", "Authentication failed."


class TokenInvalid(Unauthorized):
    """The token is malformed, forged, or of the wrong kind."""

    code, message = "token_invalid", "The token is invalid. Sign in again."


class TokenExpired(Unauthorized):
    """The access token has expired: refresh it with the refresh token."""

    code, message = "token_expired", "The token has expired. Refresh it, or sign in again."


class TokenRevoked(Unauthorized):
    """The token's login was signed out, revoked, or its password changed."""

    code, message = "token_revoked", "This sign-in has ended. Sign in again."


class NotAllowed(DomainError):
    """The caller is known but may not do this."""

    status, code, message = 403, "permission_denied", "You are not allowed to do that."


class CsrfFailed(NotAllowed):
    """A cookie-authenticated form (the admin) came without a valid CSRF token."""

    code, message = "csrf_failed", "CSRF verification failed."


class FeatureDisabled(NotAllowed):
    """This feature is turned off, or not rolled out to this account yet."""

    code, message = "feature_disabled", "This feature is not available at the moment."


class NotFound(DomainError):
    """No such object, or one the caller may not see (never a 403 that would confirm it exists)."""

    status, code, message = 404, "not_found", "Not found."


class MethodNotAllowed(DomainError):
    """This path does not answer this HTTP method."""

    status, code, message = 405, "method_not_allowed", "Method not allowed."


class NotAcceptable(DomainError):
    """The Accept header asks for a format this API does not speak (it speaks JSON)."""

    status, code, message = 406, "not_acceptable", "This endpoint answers in JSON only."


class Conflict(DomainError):
    """The request conflicts with the current state (e.g. a stale reorder, a full session)."""

    status, code, message = 409, "conflict", "The request conflicts with the current state."


class TooLarge(DomainError):
    """The body or an uploaded file is larger than allowed."""

    status, code, message = 413, "too_large", "The request is too large."


class UnsupportedMediaType(DomainError):
    """The body's Content-Type is not one this endpoint reads."""

    status, code, message = 415, "unsupported_media_type", "Unsupported media type."


class RateLimited(DomainError):
    """Too many requests: wait for Retry-After seconds."""

    status, code, message = 429, "rate_limited", "Too many requests. Try again later."

    def __init__(self, retry_after: float = 1, message: str | None = None):
        self.retry_after = max(1, int(retry_after))
        super().__init__(message or f"Too many requests. Try again in {self.retry_after} seconds.")

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


class RequestTimeout(DomainError):
    """The body stopped arriving before it was complete."""

    status, code, message = 408, "timeout", "The request body did not arrive in time."


class ServerError(DomainError):
    """A bug on our side; it has been logged. Nothing of its detail is shown."""

    status, code, message = 500, "server_error", "Internal server error."


class DependencyDown(DomainError):
    """PostgreSQL or Redis did not answer in time; try again shortly."""

    status, code, message = 503, "dependency_down", "A service we depend on is unavailable. Try again shortly."


class Overloaded(DomainError):
    """The server is at capacity and shed this request at once: try again after Retry-After."""

    status, code, message = 503, "overloaded", "The server is busy. Try again in a moment."

    def headers(self) -> dict[str, str]:
        return {"Retry-After": "1"}


class Maintenance(DomainError):
    """The service is in read-only maintenance: reads work, writes do not until Retry-After."""

    status, code, message = 503, "maintenance", "The service is in maintenance: changes are paused. Try again later."

    def __init__(self, message: str | None = None, *, retry_after: int = 300):
        self.retry_after = max(1, int(retry_after))
        super().__init__(message)

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


def envelope(error: DomainError) -> dict:
    body: dict = {"success": False, "code": error.code, "message": error.message}
    if error.errors:
        body["errors"] = error.errors
    return body


def envelope_json(error: DomainError) -> bytes:
    """The envelope as the bytes sent by code that answers before Django (the servers' shedding)."""
    return json.dumps(envelope(error)).encode()


def headers_for(error: DomainError) -> list[tuple[str, str]]:
    """The headers of envelope_json()'s answer (Retry-After and the like)."""
    return [("Content-Type", "application/json"), *error.headers().items()]


def all_error_classes() -> list[type[DomainError]]:
    """DomainError and every subclass, apps' own included (their errors.py), each code once."""
    from django.utils.module_loading import autodiscover_modules

    autodiscover_modules("errors")
    seen: dict[str, type[DomainError]] = {}
    pending: list[type[DomainError]] = [DomainError]
    while pending:
        cls = pending.pop(0)
        seen.setdefault(cls.code, cls)
        pending.extend(cls.__subclasses__())
    return sorted(seen.values(), key=lambda cls: (cls.status, cls.code))
