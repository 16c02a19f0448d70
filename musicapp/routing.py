"""WebSocket routes of every app (WS.md)."""

import musicapp.platform.converters  # noqa: F401 - registers <oid:...>
from playlists.routing import websocket_urlpatterns as playlist_routes

websocket_urlpatterns: list = [*playlist_routes]
