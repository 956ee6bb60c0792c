"""The real client address of a web request: X-Forwarded-For is believed only from trusted proxies."""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from aiohttp import web

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=16)
def trusted_networks(raw: str) -> tuple[Network, ...]:
    """The LVZHI_TRUSTED_PROXIES setting (comma-separated addresses or CIDR networks) parsed; bad parts skipped."""
    nets = []
    for part in raw.replace(";", ",").split(","):
        try:
            nets.append(ipaddress.ip_network(part.strip(), strict=False))
        except ValueError:
            continue
    return tuple(nets)


def _trusted(addr: str, nets: tuple[Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(addr)
    except ValueError:
        return False
    return any(ip in n for n in nets)


def client_address(request: web.Request, trusted_raw: str) -> str:
    """The address of the client: the peer, or, when the peer is a trusted proxy, the right-most address of
    X-Forwarded-For that is not itself a trusted proxy (the left part of the header is whatever the client wrote).
    '-' when unknown."""
    peer = request.remote or "-"
    nets = trusted_networks(trusted_raw)
    if not nets or not _trusted(peer, nets):
        return peer
    hops = [
        h.strip() for h in ",".join(request.headers.getall("X-Forwarded-For", [])).split(",") if h.strip()
    ]
    for hop in reversed(hops):
        try:
            ipaddress.ip_address(hop)
        except ValueError:
            return peer  # a malformed hop: trust nothing beyond the proxy itself
        if not _trusted(hop, nets):
            return hop
    return hops[0] if hops else peer
