import ipaddress

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    """The client's address, trusting exactly TRUSTED_PROXY_HOPS proxies in front of us.

    Each trusted proxy appends the address it received the request from to X-Forwarded-For,
    so the client is the entry that many places from the right. Anything further left was
    written by the client and is not believed.
    """
    hops = settings.TRUSTED_PROXY_HOPS
    # No REMOTE_ADDR happens behind a proxy on a Unix socket; all such clients share one key.
    remote = request.META.get("REMOTE_ADDR", "") or "0.0.0.0"  # noqa: S104 - an address, not a bind
    if hops <= 0:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    candidate = forwarded[-hops] if len(forwarded) >= hops else (forwarded[0] if forwarded else remote)
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:  # a garbled header must not become a rate-limit key (or a 500)
        return remote
