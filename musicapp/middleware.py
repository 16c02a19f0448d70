from django.middleware.gzip import GZipMiddleware


class GZipOver1KBMiddleware(GZipMiddleware):
    """Django's GZipMiddleware compresses from 200 bytes; below 1 KB it costs more than it saves."""

    min_length = 1024

    def process_response(self, request, response):
        if not response.streaming and len(response.content) < self.min_length:
            return response
        return super().process_response(request, response)
