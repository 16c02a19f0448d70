"""The web player at / (musicapp/static/player/): static ES modules and CSS, no build step, that
use only the public API. This view serves its page with the static files' hashed names, and
says where a local run's emails go (the sign-up code is in one)."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.views import APIView

from musicapp.adapters import mail
from musicapp.platform.errors import NotFound
from musicapp.platform.responses import envelope_schema, ok
from musicapp.platform.schema import ERROR

LOCAL_MAIL = {
    "django.core.mail.backends.console.EmailBackend": (
        "Local mode: emails (with your code) are printed in the terminal that runs `make run`."
    ),
    "django.core.mail.backends.locmem.EmailBackend": "Test mode: emails are kept in the server's memory.",
}


def _mail_notice() -> str | None:
    backend = settings.EMAIL_BACKEND
    if backend == "django.core.mail.backends.filebased.EmailBackend":
        return f"Local mode: emails (with your code) are written to files in {settings.EMAIL_FILE_PATH}."
    return LOCAL_MAIL.get(backend)


@require_GET
def index(request: HttpRequest) -> HttpResponse:
    config = {"mail": _mail_notice(), "devOutbox": settings.DEBUG}
    response = render(request, "player/index.html", {"config": config})
    response["Cache-Control"] = "no-cache"  # the page names the current release's static files
    return response


class DevMailSerializer(serializers.Serializer):
    subject = serializers.CharField()
    text = serializers.CharField()
    code = serializers.CharField(allow_null=True)


LOOPBACK = {"127.0.0.1", "::1"}


class DevOutboxView(APIView):
    """DEBUG only, and only to this machine (404 otherwise): the newest mail sent to an address
    in the last 10 minutes, so that a local run's sign-up page can show the code the console
    printed. (It shows reset codes too, and who has an account: never with DEBUG off, never to
    another machine.)"""

    permission_classes = [AllowAny]
    authentication_classes: list = []  # public: the page asks before anyone is signed in

    @extend_schema(
        tags=["dev"],
        parameters=[OpenApiParameter("email", str, required=True)],
        responses={200: envelope_schema("DevMailResponse", mail=DevMailSerializer()), 404: ERROR},
    )
    def get(self, request):
        local = request.META.get("REMOTE_ADDR") in LOOPBACK
        found = mail.dev_outbox(request.query_params.get("email", "")) if local else None
        if found is None:
            raise NotFound("No mail to show (the outbox is kept only when DEBUG is on).")
        return ok(mail=found)
