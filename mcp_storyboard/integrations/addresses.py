"""Which network addresses a server-side download may reach, and resolving a host to vetted addresses.

A URL from a model or a user must not make the server fetch from its own network (server-side request forgery:
cloud metadata at 169.254.169.254, admin ports on localhost, the office LAN). Every address a host resolves to is
checked, and the download then connects to a checked address, so a second, different DNS answer (rebinding)
cannot slip in between the check and the connection.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Awaitable, Callable

import anyio

from mcp_storyboard.errors import ValidationError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Awaitable[list[str]]]
"""``(host, port) -> addresses``; injected in tests so no test needs DNS."""
ALLOW_HINT = "only public addresses are fetched; STORYBOARD_MEDIA_ALLOW_PRIVATE=1 allows private ones"


async def system_resolve(host: str, port: int) -> list[str]:
    """Every address the system resolver gives for ``host`` (IPv4 and IPv6), in its order."""
    infos = await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def refusal_reason(address: IPAddress) -> str | None:
    """Why ``address`` is not a public internet address (None: it is)."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return refusal_reason(address.ipv4_mapped)
    checks = (
        (address.is_loopback, "loopback"),
        (address.is_unspecified, "unspecified"),
        (address.is_link_local, "link-local"),
        (address.is_multicast, "multicast"),
        (address.is_private, "private"),
        (address.is_reserved, "reserved"),
    )
    for failed, reason in checks:
        if failed:
            return reason
    return None if address.is_global else "non-public"


def parse_address(host: str) -> IPAddress | None:
    """``host`` as an IP address if it is one (``[::1]`` brackets allowed), else None."""
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


async def vetted_address(host: str, port: int, *, resolve: Resolver, allow_private: bool) -> str:
    """The address to connect to for ``host``: the first it resolves to, after checking all of them.

    Raises:
        ValidationError: (field ``url``) the host does not resolve, or one of its addresses is not public while
            ``allow_private`` is off (naming the address and why).
    """
    literal = parse_address(host)
    if literal is not None:
        addresses = [str(literal)]
    else:
        try:
            addresses = await resolve(host, port)
        except OSError:
            addresses = []
        if not addresses:
            raise ValidationError("url", f"host '{host}' does not resolve", hint="check the URL's host name")
    if not allow_private:
        for raw in addresses:
            address = ipaddress.ip_address(raw.split("%", 1)[0])
            reason = refusal_reason(address)
            if reason is not None:
                shown = host if literal is not None else f"{host} ({address})"
                article = "an" if reason[0] in "aeiou" else "a"
                raise ValidationError("url", f"{shown} is {article} {reason} address", hint=ALLOW_HINT)
    return addresses[0]
