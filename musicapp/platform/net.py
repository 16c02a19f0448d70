"""Who is asking: the client's address, believing forwarded headers only from our own proxies.

No server in front of the app rewrites the peer address (uvicorn runs with --no-proxy-headers,
granian does not read them): the app alone decides, here, whom to believe.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from django.conf import settings
from django.http import HttpRequest

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=8)
def _networks(trusted: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(entry, strict=False) for entry in trusted)


def address_in(address: str, allowed: list[str]) -> bool:
    """Whether address is one of `allowed` (addresses or networks, e.g. 10.0.0.0/8)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in _networks(tuple(allowed)))


def is_trusted_proxy(address: str) -> bool:
    return address_in(address, settings.TRUSTED_PROXIES)


def client_ip(request: HttpRequest) -> str:
    """The peer's address, unless the peer is one of TRUSTED_PROXIES (none by default): then
    the rightmost X-Forwarded-For entry that is not itself a trusted proxy. Each proxy appends
    the address it got the request from; anything further left was written by the client."""
    # No REMOTE_ADDR happens behind a proxy on a Unix socket; all such clients share one key.
    remote = request.META.get("REMOTE_ADDR", "") or "0.0.0.0"  # noqa: S104 - an address, not a bind
    if not is_trusted_proxy(remote):
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    for candidate in reversed(forwarded):
        try:
            address = str(ipaddress.ip_address(candidate))
        except ValueError:  # a garbled entry: believe nothing further left of it
            return remote
        if not is_trusted_proxy(address):
            return address
    return remote
