"""Every error the app can produce, rendered as the envelope of musicapp.platform.errors:
DRF's EXCEPTION_HANDLER and Django's handler400/403/404/500 and CSRF failure view."""

from __future__ import annotations

import logging

import redis.exceptions
from django.core.exceptions import ObjectDoesNotExist, RequestDataTooBig
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DatabaseError, InterfaceError, OperationalError
from django.http import Http404, JsonResponse
from rest_framework import exceptions as drf
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework.views import set_rollback

from musicapp.platform.errors import DependencyDown, DomainError, NotAllowed, RateLimited, TooLarge, envelope

logger = logging.getLogger(__name__)


def flatten_errors(detail, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested error detail -> {"field" or "field.sub" or "items.2": [texts]}."""
    if isinstance(detail, dict):
        out: dict[str, list[str]] = {}
        for key, value in detail.items():
            out.update(flatten_errors(value, f"{prefix}.{key}" if prefix else str(key)))
        return out
    if isinstance(detail, list):
        if all(not isinstance(item, (dict, list)) for item in detail):
            return {prefix or "non_field_errors": [str(item) for item in detail]}
        out = {}
        for index, item in enumerate(detail):
            if item:
                out.update(flatten_errors(item, f"{prefix}.{index}" if prefix else str(index)))
        return out
    return {prefix or "non_field_errors": [str(detail)]}


def _validation_message(errors: dict[str, list[str]]) -> str:
    field, texts = next(iter(errors.items()))
    if field == "non_field_errors":
        return texts[0]
    return f"{field}: {texts[0]}" if len(errors) == 1 else f"Invalid input in {len(errors)} fields."


def _api_exception_message(exc: drf.APIException) -> str:
    detail = exc.detail
    if isinstance(detail, dict):  # simplejwt's InvalidToken carries {"detail": ..., "messages": [...]}
        detail = detail.get("detail", next(iter(detail.values()), exc.default_detail))
    if isinstance(detail, list):
        detail = detail[0] if detail else exc.default_detail
    if isinstance(exc, drf.Throttled) and exc.wait is not None:
        return f"Too many requests. Try again in {int(exc.wait)} seconds."
    return str(detail)


def exception_handler(exc, context):
    """DRF EXCEPTION_HANDLER: every exception becomes the envelope, and the transaction rolls back."""
    set_rollback()
    if isinstance(exc, DomainError):
        headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, RateLimited) else None
        return Response(envelope(exc.message, exc.errors), status=exc.status, headers=headers)
    if isinstance(exc, (Http404, ObjectDoesNotExist)):
        return Response(envelope("Not found."), status=404)
    if isinstance(exc, DjangoPermissionDenied):
        return Response(envelope(NotAllowed.message), status=403)
    if isinstance(exc, DjangoValidationError):
        errors = flatten_errors(exc.message_dict if hasattr(exc, "error_dict") else exc.messages)
        return Response(envelope(_validation_message(errors), errors), status=400)
    if isinstance(exc, RequestDataTooBig):
        return Response(envelope(TooLarge.message), status=413)
    if isinstance(exc, drf.ValidationError):
        errors = flatten_errors(exc.detail)
        return Response(envelope(_validation_message(errors), errors), status=400)
    if isinstance(exc, drf.APIException):
        response = drf_exception_handler(exc, context)  # keeps WWW-Authenticate / Retry-After
        response.data = envelope(_api_exception_message(exc))
        return response
    if isinstance(
        exc, (OperationalError, InterfaceError, redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)
    ):
        logger.warning("dependency unavailable: %r", exc)
        return Response(envelope(DependencyDown.message), status=503)
    if isinstance(exc, DatabaseError):
        logger.exception("database error")
    else:
        logger.exception("unhandled error in %s", context.get("view").__class__.__name__)
    return Response(envelope("Internal server error."), status=500)


# Django-level handlers (urls.py), for what never reaches a DRF view: unknown paths,
# DisallowedHost, CSRF failures in the admin's API neighbours, crashes in plain views.
def bad_request(request, exception=None):
    return JsonResponse(envelope("Bad request."), status=400)


def permission_denied(request, exception=None):
    return JsonResponse(envelope(NotAllowed.message), status=403)


def not_found(request, exception=None):
    return JsonResponse(envelope("Not found."), status=404)


def server_error(request):
    return JsonResponse(envelope("Internal server error."), status=500)


def csrf_failure(request, reason=""):
    return JsonResponse(envelope(f"CSRF verification failed: {reason}".strip()), status=403)
