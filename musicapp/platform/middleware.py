import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth.middleware import AuthenticationMiddleware
from django.contrib.auth.models import AnonymousUser
from django.contrib.messages.middleware import MessageMiddleware
from django.contrib.sessions.middleware import SessionMiddleware
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.middleware.gzip import GZipMiddleware, re_accepts_gzip
from django.utils.cache import patch_vary_headers
from django.utils.text import compress_string

from musicapp.platform import switches
from musicapp.platform.errors import Maintenance
from musicapp.platform.handlers import error_response


class CompressedCopies:
    """Gzipped bodies by the digest of the plain body, least recently used out first, within a
    byte budget: a hot cached payload (the song list, an album) is compressed once per process
    instead of on every request (gzip was 29% of a cached song list's time).

    Each distinct body still gets its own random padding (Django's BREACH mitigation), so two
    bodies that differ by one guessed character get independent pads; an identical body gets
    the identical pad again, which BREACH cannot use (nothing differs). The API's bodies carry
    no secret beside attacker input (bearer tokens are not in them), and the admin's pages carry
    a freshly masked CSRF token each time, so they never repeat."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.size = 0
        self.entries: OrderedDict[bytes, bytes] = OrderedDict()
        self.lock = threading.Lock()

    def compress(self, content: bytes, max_random_bytes: int) -> bytes:
        digest = hashlib.blake2b(content, digest_size=16).digest()
        with self.lock:
            if (hit := self.entries.get(digest)) is not None:
                self.entries.move_to_end(digest)
                return hit
        compressed = compress_string(content, max_random_bytes=max_random_bytes)
        if len(compressed) <= self.max_bytes // 8:
            with self.lock:
                if digest not in self.entries:
                    self.entries[digest] = compressed
                    self.size += len(compressed)
                while self.size > self.max_bytes:
                    self.size -= len(self.entries.popitem(last=False)[1])
        return compressed

    def clear(self) -> None:
        with self.lock:
            self.entries.clear()
            self.size = 0


compressed_copies = CompressedCopies(settings.GZIP_MEMO_MAX_BYTES)


class GZipOver1KBMiddleware(GZipMiddleware):
    """Django's GZipMiddleware, but from 1 KB (below that it costs more than it saves), never
    for ranged media (compressing would change the bytes that Content-Range counts), and with
    the compressed copy of a body kept for the next identical one (CompressedCopies)."""

    min_length = 1024

    def process_response(self, request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
        if response.get("Accept-Ranges") == "bytes" or response.status_code == 206:
            return response
        if response.streaming:
            return super().process_response(request, response)
        content: bytes = response.content  # type: ignore[attr-defined]
        if len(content) < self.min_length or response.has_header("Content-Encoding"):
            return response
        patch_vary_headers(response, ("Accept-Encoding",))
        if not re_accepts_gzip.search(request.META.get("HTTP_ACCEPT_ENCODING", "")):
            return response
        compressed = compressed_copies.compress(content, self.max_random_bytes)
        if len(compressed) >= len(content):
            return response
        response.content = compressed  # type: ignore[attr-defined]
        response.headers["Content-Length"] = str(len(compressed))
        if (etag := response.get("ETag")) and etag.startswith('"'):
            response.headers["ETag"] = "W/" + etag  # RFC 9110 8.8.1, as Django does
        response.headers["Content-Encoding"] = "gzip"
        return response


def uses_sessions(request: HttpRequest) -> bool:
    """Only the admin signs in with a cookie; the API, /health, /metrics, media and the web
    player never read a session, so none is loaded, saved or varied on for them."""
    return request.path_info.startswith(settings.SESSION_PATH_PREFIXES)


class AdminSessionMiddleware(SessionMiddleware):
    """Django's SessionMiddleware where sessions are used (uses_sessions), nothing elsewhere."""

    def process_request(self, request: HttpRequest) -> None:
        if uses_sessions(request):
            super().process_request(request)

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        return super().process_response(request, response) if uses_sessions(request) else response


class AdminAuthenticationMiddleware(AuthenticationMiddleware):
    """The session's user where sessions are used; elsewhere an anonymous user until DRF's token
    authentication sets the real one."""

    def process_request(self, request: HttpRequest) -> None:
        if uses_sessions(request):
            super().process_request(request)
        else:
            request.user = AnonymousUser()


class AdminMessageMiddleware(MessageMiddleware):
    """Django's messages (the admin's "saved" banners) where sessions are used, nothing elsewhere."""

    def process_request(self, request: HttpRequest) -> None:
        if uses_sessions(request):
            super().process_request(request)

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        return super().process_response(request, response) if uses_sessions(request) else response


class ReadOnlyMiddleware:
    """In read-only maintenance (musicapp.platform.switches) the API refuses every write at once
    with 503 `maintenance` and Retry-After, but for signing in; reads, the admin (where the
    switch is turned off) and /health go on. Reads never look at the switch."""

    SAFE = frozenset({"GET", "HEAD", "OPTIONS"})
    # Signing in and refreshing a token write a login row, yet stay open: access tokens last
    # minutes, and without them maintenance would end reads too.
    SIGN_IN = frozenset({"/api/auth/login", "/api/auth/refresh"})

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        path = request.path_info
        if request.method not in self.SAFE and path.startswith("/api/") and path not in self.SIGN_IN:
            try:
                switches.check_writable()
            except Maintenance as error:
                return error_response(error)
        return self.get_response(request)
