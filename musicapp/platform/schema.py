"""The error side of the OpenAPI description (drf-spectacular postprocessing hook).

Every operation documents the envelope for each error status it can answer: the ones the
platform answers anywhere (429 rate limit, 500, 503), the ones its shape implies (400 for input,
401 where a token is read, 404 for an id in the path, 413/415 for a body), and the ones a view
declares itself with ERROR (403 for owner-only actions, 409 for conflicts). The envelope's
`code` is an enum of every code (musicapp.platform.errors), each described.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from django.conf import settings
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import serializers

from musicapp.platform.errors import all_error_classes

REF = {"$ref": "#/components/schemas/ErrorEnvelope"}
DESCRIPTIONS = {
    400: "Invalid input (`validation_error`, with `errors` by field) or an unreadable body (`parse_error`).",
    401: "No token, or a token refused (`not_authenticated`, `token_expired`, `token_invalid`, `token_revoked`).",
    403: "Not allowed (`permission_denied`).",
    404: "No such object, or one the caller may not see (`not_found`).",
    409: "Conflicts with the current state (`conflict`).",
    413: "Body or upload too large, or too many fields (`too_large`).",
    415: "A Content-Type this endpoint does not read (`unsupported_media_type`).",
    429: "Rate limited (`rate_limited`); wait `Retry-After` seconds.",
    500: "A bug on our side (`server_error`), logged; no detail is shown.",
    503: "PostgreSQL or Redis is unavailable (`dependency_down`); try again shortly.",
}
EVERYWHERE = (429, 500, 503)
METHODS = ("get", "put", "post", "patch", "delete")


class ErrorEnvelopeSerializer(serializers.Serializer):
    """For a view's own extend_schema(responses={403: ERROR, 409: ERROR}); the hook writes the schema."""

    success = serializers.BooleanField()
    code = serializers.CharField()
    message = serializers.CharField()


ERROR = OpenApiResponse(ErrorEnvelopeSerializer, description="The error envelope.")


def envelope_schema() -> dict[str, Any]:
    classes = all_error_classes()
    codes = "\n".join(f"- `{cls.code}` ({cls.status}): {' '.join((cls.__doc__ or '').split())}" for cls in classes)
    return {
        "type": "object",
        "description": "Every error answer. Branch on `code`, never on `message`.\n\n" + codes,
        "required": ["success", "code", "message"],
        "properties": {
            "success": {"type": "boolean", "enum": [False]},
            "code": {"type": "string", "enum": [cls.code for cls in classes]},
            "message": {"type": "string", "description": "Human text, safe to show as it is."},
            "errors": {
                "type": "object",
                "description": "Only for validation_error: the camelCase field path -> its problems.",
                "additionalProperties": {"type": "array", "items": {"type": "string"}},
            },
        },
    }


def _statuses(operation: dict[str, Any]) -> set[int]:
    statuses = set(EVERYWHERE)
    parameters = operation.get("parameters", [])
    if operation.get("requestBody") or any(p.get("in") == "query" for p in parameters):
        statuses.add(400)
    if operation.get("requestBody"):
        statuses |= {413, 415}
    if any(p.get("in") == "path" for p in parameters):
        statuses.add(404)
    if any(scheme for scheme in operation.get("security", []) if scheme):
        statuses.add(401)
    return statuses


def document_errors(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    result.setdefault("components", {}).setdefault("schemas", {})["ErrorEnvelope"] = envelope_schema()
    for path_item in result.get("paths", {}).values():
        for method in METHODS:
            operation = path_item.get(method)
            if operation is None:
                continue
            responses = operation.setdefault("responses", {})
            declared = {int(status) for status in responses if str(status).isdigit() and int(status) >= 400}
            for status in sorted(_statuses(operation) | declared):
                responses[str(status)] = {
                    "description": DESCRIPTIONS.get(status, "The error envelope."),
                    "content": {"application/json": {"schema": REF}},
                }
    return result


# --- lists ---------------------------------------------------------------------------------


def limit_parameter() -> OpenApiParameter:
    return OpenApiParameter(
        "limit",
        {"type": "integer", "minimum": 1, "maximum": settings.PAGINATION_MAX_LIMIT},
        description=f"Page size, 1-{settings.PAGINATION_MAX_LIMIT} (default {settings.PAGINATION_DEFAULT_LIMIT}).",
    )


OBJECT_ID = {"type": "string", "pattern": "^[0-9a-f]{24}$"}
OBJECT_ID_OR_EMPTY = {"type": "string", "pattern": "^([0-9a-f]{24})?$"}
CURSOR = OpenApiParameter("cursor", str, description="The nextCursor of the previous page (opaque).")


@cache
def _page(list_key: str, item_class: type[serializers.Serializer]) -> serializers.Serializer:
    from musicapp.platform.responses import envelope_schema

    fields = {
        list_key: item_class(many=True),
        "next_cursor": serializers.CharField(allow_null=True),
        "has_more": serializers.BooleanField(),
    }
    return envelope_schema("".join(part.title() for part in list_key.split("_")) + "Page", **fields)


def list_schema(list_key: str, item: serializers.Serializer, **extra: Any) -> dict[str, Any]:
    """extend_schema(**list_schema("songs", SongSerializer())): the list envelope of API.md
    ({success, <list_key>: [...], nextCursor, hasMore}) and its limit/cursor parameters."""
    return {
        "responses": {200: _page(list_key, type(item))},
        "parameters": [limit_parameter(), CURSOR, *extra.pop("parameters", [])],
        **extra,
    }
