from django.contrib import admin
from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from musicapp import ops

admin.site.site_header = "Music app staff"
admin.site.site_title = "Music app staff"

urlpatterns = [
    path("health", ops.health, name="health"),
    path("metrics", ops.prometheus_metrics, name="metrics"),
    path("admin/", admin.site.urls),
    path("api/schema", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    path("api/redoc", SpectacularRedocView.as_view(url_name="schema"), name="redoc"),
]

handler400 = "musicapp.errors.bad_request"
handler403 = "musicapp.errors.permission_denied"
handler404 = "musicapp.errors.not_found"
handler500 = "musicapp.errors.server_error"
