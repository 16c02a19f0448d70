from django.http import HttpRequest, HttpResponseBase
from django.middleware.gzip import GZipMiddleware


class GZipOver1KBMiddleware(GZipMiddleware):
    """Django's GZipMiddleware, but from 1 KB (below that it costs more than it saves), and
    never for ranged media: compressing would change the bytes that Content-Range counts."""

    min_length = 1024

    def process_response(self, request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
        if response.get("Accept-Ranges") == "bytes" or response.status_code == 206:
            return response
        if not response.streaming and len(response.content) < self.min_length:  # type: ignore[attr-defined]
            return response
        return super().process_response(request, response)
