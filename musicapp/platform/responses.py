"""What every API view shares: the success envelope, its OpenAPI shape, and input validation."""

from collections.abc import Callable
from typing import Any

from django.http import HttpResponse
from drf_spectacular.utils import inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings

from musicapp.platform import scoped_cache
from musicapp.platform.scoped_cache import DEFAULT_TIMEOUT


def ok(status: int = 200, **payload: Any) -> Response:
    """The success envelope of API.md: {"success": true, <named payload>}."""
    return Response({"success": True, **payload}, status=status)


def rendered_ok(**payload: Any) -> bytes:
    """ok(**payload) as the bytes the API's renderer (camelCase JSON) sends."""
    renderer = api_settings.DEFAULT_RENDERER_CLASSES[0]()  # type: ignore[operator]  # (classes once loaded)
    return renderer.render({"success": True, **payload})


def cached_ok(
    scope: str, variant: str, build: Callable[[], dict[str, Any]], timeout: int = DEFAULT_TIMEOUT
) -> HttpResponse:
    """ok(**build()), cached (musicapp.platform.scoped_cache) as the bytes it renders to: a hot
    read neither rebuilds nor re-renders (camelCase conversion was most of such a request)."""
    body = scoped_cache.cached(scope, f"{variant}:json", lambda: rendered_ok(**build()), timeout)
    return HttpResponse(body, content_type="application/json")


def cached_ok_for_user(
    user_id: str,
    scope: str,
    variant: str,
    build: Callable[[], dict[str, Any]],
    timeout: int = scoped_cache.DEFAULT_TIMEOUT,
) -> HttpResponse:
    return cached_ok(scoped_cache.user_scope(user_id, scope), variant, build, timeout)


def envelope_schema(name: str, **fields: serializers.Field) -> serializers.Serializer:
    """The OpenAPI shape of ok(**fields), for @extend_schema(responses=...)."""
    return inline_serializer(name, {"success": serializers.BooleanField(), **fields})


def validated(serializer_class: type[serializers.Serializer], request: Request) -> dict[str, Any]:
    """The request body checked by serializer_class; a 400 envelope with `errors` otherwise."""
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data
