"""The staff site: Django's admin, with sign-in attempts limited like the API's login
(AUTH_RATES login_ip / login_email: 5 per 15 minutes each by default)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponse

from musicapp.platform.errors import RateLimited
from musicapp.platform.net import client_ip
from musicapp.platform.ratelimit import enforce


class StaffAdminSite(admin.AdminSite):
    site_header = site_title = "Music app staff"

    def login(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        if request.method == "POST":
            try:
                self._count_attempt(request)
            except RateLimited as limited:
                messages.error(request, f"Too many sign-in attempts. Try again in {limited.retry_after} seconds.")
                request.method = "GET"  # show the sign-in page again; the attempt is not tried
                response = super().login(request, extra_context)
                response.status_code = 429
                response["Retry-After"] = str(limited.retry_after)
                return response
        return super().login(request, extra_context)

    @staticmethod
    def _count_attempt(request: HttpRequest) -> None:
        email = request.POST.get("username", "").strip().lower()
        enforce(request, group="admin:login:ip", value=client_ip(request), rate=settings.AUTH_RATES["login_ip"])
        enforce(request, group="admin:login:email", value=email, rate=settings.AUTH_RATES["login_email"])
