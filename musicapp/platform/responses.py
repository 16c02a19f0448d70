"""What every API view shares: the success envelope, its OpenAPI shape, and input validation."""

from typing import Any

from drf_spectacular.utils import inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response


def ok(status: int = 200, **payload: Any) -> Response:
    """The success envelope of API.md: {"success": true, <named payload>}."""
    return Response({"success": True, **payload}, status=status)


def envelope_schema(name: str, **fields: serializers.Field) -> serializers.Serializer:
    """The OpenAPI shape of ok(**fields), for @extend_schema(responses=...)."""
    return inline_serializer(name, {"success": serializers.BooleanField(), **fields})


def validated(serializer_class: type[serializers.Serializer], request: Request) -> dict[str, Any]:
    """The request body checked by serializer_class; a 400 envelope with `errors` otherwise."""
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data
