"""Keyset ("cursor") pagination for every list endpoint (API.md):

    ?limit= (default 20, max 100) & ?cursor=   ->   {"<name>": [...], "nextCursor": str|null, "hasMore": bool}

The cursor is the (sort value, id) of the last row served, so the next page is
`WHERE (sort, id) < (value, id)` on an index of (sort, id): rows inserted meanwhile
never shift a page, and the query costs the same on page 1 and page 10,000. DRF's own
CursorPagination keys on one column only and falls back to offsets on ties.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any, cast

from django.conf import settings
from django.db.models import F, Field, Model, QuerySet
from django.db.models.fields.tuple_lookups import (  # type: ignore[import-untyped]
    Tuple,
    TupleGreaterThan,
    TupleLessThan,
)
from rest_framework.pagination import BasePagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer
from rest_framework.views import APIView

from musicapp.platform.errors import InvalidInput
from musicapp.platform.fields import query_integer


def encode_cursor(values: list[Any]) -> str:
    raw = json.dumps(values, separators=(",", ":"), default=str).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _bad_cursor() -> InvalidInput:
    return InvalidInput("cursor: this cursor is not valid.", errors={"cursor": ["This cursor is not valid."]})


def decode_cursor(cursor: str) -> list[Any]:
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        values = None
    if not isinstance(values, list) or len(values) != 2:
        raise _bad_cursor()
    return values


def parse_limit(raw: str | None) -> int:
    if raw is None:
        return settings.PAGINATION_DEFAULT_LIMIT
    limit = query_integer(raw) or 0
    if not 1 <= limit <= settings.PAGINATION_MAX_LIMIT:
        text = f"Must be a whole number from 1 to {settings.PAGINATION_MAX_LIMIT}."
        raise InvalidInput(f"limit: {text}", errors={"limit": [text]})
    return limit


class KeysetPagination(BasePagination):
    """A view names its payload and sort key: `pagination_class = KeysetPagination.named("songs")`.

    Newest first (descending) unless ascending=True.
    """

    list_key = "results"
    keyset = "created_at"
    ascending = False

    @classmethod
    def named(cls, list_key: str, *, keyset: str = "created_at", ascending: bool = False) -> type[KeysetPagination]:
        attrs = {"list_key": list_key, "keyset": keyset, "ascending": ascending}
        return type(f"{list_key.title()}KeysetPagination", (cls,), attrs)

    def paginate_queryset(self, queryset: QuerySet, request: Request, view: APIView | None = None) -> list[Any]:
        field, ascending = self.keyset, self.ascending
        limit = parse_limit(request.query_params.get("limit"))
        sign = "" if ascending else "-"
        queryset = queryset.order_by(f"{sign}{field}", f"{sign}pk")
        cursor = request.query_params.get("cursor")
        if cursor:
            queryset = queryset.filter(self._after(queryset.model, field, decode_cursor(cursor), ascending))
        rows = list(queryset[: limit + 1])
        self.has_more = len(rows) > limit
        rows = rows[:limit]
        self.next_cursor = None
        if self.has_more:
            last = rows[-1]
            self.next_cursor = encode_cursor([_json_value(getattr(last, field)), last.pk])
        return rows

    @staticmethod
    def _after(model: type[Model], field: str, values: list[Any], ascending: bool) -> Any:
        try:
            value = cast(Field, model._meta.get_field(field)).to_python(values[0])
            pk = model._meta.pk.to_python(values[1])
        except Exception as exc:  # any unparsable value means a forged cursor
            raise _bad_cursor() from exc
        lookup = TupleGreaterThan if ascending else TupleLessThan
        # A row comparison, so PostgreSQL walks the (field, id) index from the cursor on.
        return lookup(Tuple(F(field), F("pk")), (value, pk))

    def page_payload(
        self, queryset: QuerySet, request: Request, serializer_class: type[BaseSerializer]
    ) -> dict[str, Any]:
        """One page as the payload API.md names: {<list_key>: [...], next_cursor, has_more}."""
        rows = self.paginate_queryset(queryset, request)
        return {
            self.list_key: serializer_class(rows, many=True).data,
            "next_cursor": self.next_cursor,
            "has_more": self.has_more,
        }

    def get_paginated_response(self, data: Any) -> Response:
        return Response(
            {"success": True, self.list_key: data, "next_cursor": self.next_cursor, "has_more": self.has_more}
        )

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        return {
            "type": "object",
            "required": ["success", self.list_key, "nextCursor", "hasMore"],
            "properties": {
                "success": {"type": "boolean", "example": True},
                self.list_key: schema,
                "nextCursor": {"type": "string", "nullable": True},
                "hasMore": {"type": "boolean"},
            },
        }

    def get_schema_operation_parameters(self, view: APIView) -> list[dict[str, Any]]:
        return [
            {
                "name": "limit",
                "required": False,
                "in": "query",
                "description": (
                    f"Page size, 1-{settings.PAGINATION_MAX_LIMIT} (default {settings.PAGINATION_DEFAULT_LIMIT})."
                ),
                "schema": {"type": "integer"},
            },
            {
                "name": "cursor",
                "required": False,
                "in": "query",
                "description": "The nextCursor of the previous page.",
                "schema": {"type": "string"},
            },
        ]


def _json_value(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value
