"""Logging that never writes a secret: WebSocket URLs carry the access token in their query
string (?token=, WS.md), and an access log line would otherwise keep it."""

from __future__ import annotations

import logging
import re

SECRET_PARAMS = re.compile(r"((?:^|[?&;\s])(?:token|access_token|refresh_token)=)[^&\s\"']+", re.IGNORECASE)


def redact(text: str) -> str:
    return SECRET_PARAMS.sub(r"\1[redacted]", text)


class RedactSecrets(logging.Filter):
    """Rewrites the record's message with query-string secrets blanked (args included)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


class SkipNotFound(logging.Filter):
    """Drops django.request's "Not Found" lines (the 404s); every other status still logs."""

    def filter(self, record: logging.LogRecord) -> bool:
        return getattr(record, "status_code", None) != 404
