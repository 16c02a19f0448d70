"""Every error the app can produce, rendered as the envelope of musicapp.platform.errors: DRF's
EXCEPTION_HANDLER and Django's handler400/403/404/500 and CSRF failure view.

Framework exceptions are first translated into the DomainError that says the same thing, so
there is one renderer and every answer carries a code from the one vocabulary.
"""

from __future__ import annotations

import logging
from typing import Any

import redis.exceptions
from django.conf import settings
from django.core.exceptions import (
    ObjectDoesNotExist,
    RequestDataTooBig,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DatabaseError, InterfaceError, OperationalError
from django.http import Http404, HttpRequest, JsonResponse
from rest_framework import exceptions as drf
from rest_framework.response import Response
from rest_framework.views import set_rollback

from musicapp.platform.errors import (
    AuthenticationFailed,
    CsrfFailed,
    DependencyDown,
    DomainError,
    InvalidInput,
    MalformedBody,
    MethodNotAllowed,
    NotAcceptable,
    NotAllowed,
    NotFound,
    RateLimited,
    ServerError,
    TokenExpired,
    TokenInvalid,
    TokenRevoked,
    TooLarge,
    Unauthorized,
    UnsupportedMediaType,
    envelope,
)

logger = logging.getLogger(__name__)

DEPENDENCY_ERRORS = (OperationalError, InterfaceError, redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)


def flatten_errors(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested error detail -> {"field" or "field.sub" or "items.2": [texts]}."""
    if isinstance(detail, dict):
        out: dict[str, list[str]] = {}
        for key, value in detail.items():
            out.update(flatten_errors(value, f"{prefix}.{key}" if prefix else str(key)))
        return out
    if isinstance(detail, list):
        if all(not isinstance(item, dict | list) for item in detail):
            return {prefix or "non_field_errors": [str(item) for item in detail]}
        out = {}
        for index, item in enumerate(detail):
            if item:
                out.update(flatten_errors(item, f"{prefix}.{index}" if prefix else str(index)))
        return out
    return {prefix or "non_field_errors": [str(detail)]}


def _validation_error(errors: dict[str, list[str]]) -> InvalidInput:
    field, texts = next(iter(errors.items()))
    if field == "non_field_errors":
        message = texts[0]
    else:
        message = f"{field}: {texts[0]}" if len(errors) == 1 else f"Invalid input in {len(errors)} fields."
    return InvalidInput(message, errors=errors)


def _drf_message(exc: drf.APIException) -> str:
    detail: Any = exc.detail
    if isinstance(detail, dict):  # simplejwt's InvalidToken carries {"detail": ..., "messages": [...]}
        detail = detail.get("detail", next(iter(detail.values()), exc.default_detail))
    if isinstance(detail, list):
        detail = detail[0] if detail else exc.default_detail
    return str(detail)


# simplejwt's and our authentication's refusal codes -> ours (the rest: authentication_failed).
TOKEN_REFUSALS: dict[str, type[Unauthorized]] = {
    "token_not_valid": TokenInvalid,
    "token_expired": TokenExpired,
    "token_revoked": TokenRevoked,
    "password_changed": TokenRevoked,  # a password reset signs every device out
}


def _refusal(exc: drf.AuthenticationFailed) -> Unauthorized:
    codes = exc.get_codes()
    if isinstance(codes, dict):  # InvalidToken's detail: {"detail", "code", "messages"}
        codes = codes.get("code") or codes.get("detail") or exc.default_code
    if isinstance(codes, list):
        codes = codes[0] if codes else exc.default_code
    token_error = TOKEN_REFUSALS.get(str(codes))
    return token_error() if token_error else AuthenticationFailed(_drf_message(exc))


# DRF's own exceptions -> ours (ValidationError and Throttled carry more, and are handled apart).
DRF_EQUIVALENTS: list[tuple[type[drf.APIException], type[DomainError]]] = [
    (drf.NotAuthenticated, Unauthorized),
    (drf.PermissionDenied, NotAllowed),
    (drf.NotFound, NotFound),
    (drf.MethodNotAllowed, MethodNotAllowed),
    (drf.NotAcceptable, NotAcceptable),
    (drf.UnsupportedMediaType, UnsupportedMediaType),
    (drf.ParseError, MalformedBody),
]


def as_domain_error(exc: BaseException) -> DomainError | None:
    """The DomainError that says what exc says, or None for an unexpected error (a bug)."""
    if isinstance(exc, DomainError):
        return exc
    if isinstance(exc, Http404 | ObjectDoesNotExist):
        return NotFound()
    if isinstance(exc, DjangoPermissionDenied):
        return NotAllowed()
    if isinstance(exc, DjangoValidationError):
        return _validation_error(flatten_errors(exc.message_dict if hasattr(exc, "error_dict") else exc.messages))
    if isinstance(exc, drf.ValidationError):
        return _validation_error(flatten_errors(exc.detail))
    if isinstance(exc, drf.Throttled):
        return RateLimited(getattr(exc, "wait", None) or 1)
    if isinstance(exc, RequestDataTooBig):
        return TooLarge()
    if isinstance(exc, TooManyFieldsSent | TooManyFilesSent):
        return TooLarge(
            f"The request has too many fields or files (at most {settings.DATA_UPLOAD_MAX_NUMBER_FIELDS:,} fields "
            f"and {settings.DATA_UPLOAD_MAX_NUMBER_FILES} files)."
        )
    if isinstance(exc, drf.AuthenticationFailed):
        return _refusal(exc)
    if isinstance(exc, RecursionError):  # JSON nested hundreds deep, parsed (or camel-cased) recursively
        return MalformedBody("The request body is nested too deeply.")
    for drf_class, ours in DRF_EQUIVALENTS:
        if isinstance(exc, drf_class):
            return ours(_drf_message(exc))
    if isinstance(exc, DEPENDENCY_ERRORS):
        logger.warning("dependency unavailable: %r", exc)
        return DependencyDown()
    return None


def exception_handler(exc: Exception, context: dict) -> Response:
    """DRF EXCEPTION_HANDLER: every exception becomes the envelope, and the transaction rolls back."""
    set_rollback()
    error = as_domain_error(exc)
    if error is None:
        view = context.get("view")
        if isinstance(exc, DatabaseError):
            logger.exception("database error in %s", type(view).__name__)
        else:
            logger.exception("unhandled error in %s", type(view).__name__)
        error = ServerError()
    headers = error.headers()
    if auth_header := getattr(exc, "auth_header", None):  # DRF's WWW-Authenticate challenge
        headers["WWW-Authenticate"] = auth_header
    # DRF turns a 401 into a 403 for views without an authenticator; keep its status then.
    status = exc.status_code if isinstance(exc, drf.APIException) and error.status in (401, 403) else error.status
    return Response(envelope(error), status=status, headers=headers)


def error_response(error: DomainError) -> JsonResponse:
    """The envelope for code outside DRF (plain Django views, middleware)."""
    response = JsonResponse(envelope(error), status=error.status)
    for name, value in error.headers().items():
        response[name] = value
    return response


# Django-level handlers (urls.py), for what never reaches a DRF view: unknown paths,
# DisallowedHost, CSRF failures in the admin's API neighbours, crashes in plain views.
def bad_request(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    error = as_domain_error(exception) if exception is not None else None
    return error_response(error or DomainError("Bad request."))


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return error_response(NotAllowed())


def not_found(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return error_response(NotFound())


def server_error(request: HttpRequest) -> JsonResponse:
    return error_response(ServerError())


def csrf_failure(request: HttpRequest, reason: str = "") -> JsonResponse:
    return error_response(CsrfFailed(f"CSRF verification failed: {reason}".strip()))
