"""WebSocket routes of every app (WS.md), then a catch-all that refuses unknown paths cleanly."""

from django.urls import re_path

import musicapp.platform.converters  # noqa: F401 - registers <oid:...>
from listening_sessions.routing import websocket_urlpatterns as session_routes
from musicapp.platform.websocket import UnknownPathConsumer
from playlists.routing import websocket_urlpatterns as playlist_routes

websocket_urlpatterns: list = [*playlist_routes, *session_routes, re_path(r"", UnknownPathConsumer.as_asgi())]
