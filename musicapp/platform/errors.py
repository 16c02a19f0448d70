"""One error shape for everything the app can answer (API.md):

    {"success": false, "message": "<human text>", "errors": {"<field>": ["<text>", ...]}}

Services raise DomainError subclasses (code + HTTP status, like zulip's JsonableError);
musicapp.platform.handlers renders them, and every other error, in that shape.
"""

from __future__ import annotations


class DomainError(Exception):
    status = 400
    code = "bad_request"
    message = "The request could not be processed."

    def __init__(self, message: str | None = None, *, code: str | None = None, errors: dict | None = None):
        self.message = message or self.message
        self.code = code or self.code
        self.errors = errors
        super().__init__(self.message)


class InvalidInput(DomainError):
    status, code, message = 400, "invalid", "Invalid input."


class Unauthorized(DomainError):
    status, code, message = 401, "unauthorized", "Authentication failed."


class NotAllowed(DomainError):
    status, code, message = 403, "forbidden", "You are not allowed to do that."


class NotFound(DomainError):
    status, code, message = 404, "not_found", "Not found."


class Conflict(DomainError):
    status, code, message = 409, "conflict", "The request conflicts with the current state."


class TooLarge(DomainError):
    status, code, message = 413, "too_large", "The request is too large."


class RateLimited(DomainError):
    status, code, message = 429, "rate_limited", "Too many requests. Try again later."

    def __init__(self, retry_after: int, message: str | None = None):
        self.retry_after = max(1, int(retry_after))
        super().__init__(message or f"Too many requests. Try again in {self.retry_after} seconds.")


class DependencyDown(DomainError):
    status, code, message = 503, "unavailable", "A service we depend on is unavailable. Try again shortly."


def envelope(message: str, errors: dict | None = None) -> dict:
    body = {"success": False, "message": message}
    if errors:
        body["errors"] = errors
    return body
