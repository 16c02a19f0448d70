from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from accounts.urls import auth_urlpatterns, user_urlpatterns
from library.urls import album_urlpatterns, artist_urlpatterns, library_urlpatterns, song_urlpatterns
from musicapp import player
from musicapp.platform import ops, serve

urlpatterns = [
    path("health", ops.health, name="health"),
    path("metrics", ops.prometheus_metrics, name="metrics"),
    path("admin/", admin.site.urls),
    path("api/schema", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    path("api/redoc", SpectacularRedocView.as_view(url_name="schema"), name="redoc"),
    path("api/auth/", include(auth_urlpatterns)),
    path("api/user/", include(user_urlpatterns)),
    path("api/song/", include(song_urlpatterns)),
    path("api/album/", include(album_urlpatterns)),
    path("api/artist/", include(artist_urlpatterns)),
    path("api/", include(library_urlpatterns)),
    path("api/", include("playlists.urls")),
    path("api/", include("listening_sessions.urls")),
    path("api/", include("search.urls")),
    # The local media store (Cloudinary serves its own files when configured).
    re_path(rf"^{settings.MEDIA_URL.strip('/')}/(?P<path>.+)$", serve.media_file, name="media"),
    path("api/dev/outbox", player.DevOutboxView.as_view(), name="dev-outbox"),  # DEBUG only
    path("", player.index, name="player"),  # the web player (musicapp/static/player/)
]

handler400 = "musicapp.platform.handlers.bad_request"
handler403 = "musicapp.platform.handlers.permission_denied"
handler404 = "musicapp.platform.handlers.not_found"
handler500 = "musicapp.platform.handlers.server_error"
