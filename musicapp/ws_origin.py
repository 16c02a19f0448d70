from urllib.parse import urlsplit

from django.conf import settings
from django.http.request import validate_host


def origin_allowed(scope) -> bool:
    """The browser's Origin must be one of ALLOWED_HOSTS or CORS_ALLOWED_ORIGINS. Clients that
    send no Origin (native apps, tests) are allowed: only browsers carry ambient credentials."""
    origin = dict(scope.get("headers", [])).get(b"origin", b"").decode()
    if not origin:
        return True
    if origin in settings.CORS_ALLOWED_ORIGINS:
        return True
    host = urlsplit(origin).hostname or ""
    return validate_host(host, settings.ALLOWED_HOSTS)
