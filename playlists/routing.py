from django.urls import path

from playlists.consumers import PlaylistConsumer

websocket_urlpatterns = [
    path("ws/playlist/<oid:playlist_id>/", PlaylistConsumer.as_asgi()),
]
