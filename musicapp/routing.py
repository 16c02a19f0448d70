"""WebSocket routes of every app (WS.md); each app adds its own as it gains live features."""

websocket_urlpatterns: list = []
