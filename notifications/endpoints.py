"""Where webhook and chat messages may go: the SSRF guard.

An endpoint's host is resolved once per message (a send task: once per window); every address it resolves to
must be public (not loopback, private, link-local, shared, reserved, multicast, or a cloud metadata address)
unless an operator's WEBHOOK_ALLOWED_NETWORKS range holds it, and its port must be 80, 443, one of
WEBHOOK_ALLOWED_PORTS, or any port inside an allowed range. The connection then goes to that checked address
(no second resolution: DNS rebinding cannot swap it), with the name kept for the Host header, TLS SNI and
certificate check. No redirect is followed. The same check runs when a subscriber is created (a clear error)
and before each send.
"""

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

METADATA = {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")}
STANDARD_PORTS = {"http": 80, "https": 443}


class EndpointRefused(ValueError):
    """The endpoint may not be used (its scheme, port or address); the message says why."""


@dataclass(frozen=True, slots=True)
class Target:
    scheme: str
    host: str  # the name in the URL (Host header, SNI)
    address: str  # the checked address to connect to
    port: int
    path: str  # path and query


def _allowed_networks():
    return [ipaddress.ip_network(n) for n in getattr(settings, "WEBHOOK_ALLOWED_NETWORKS", [])]


def _in_allowed(address, networks) -> bool:
    return any(address.version == n.version and address in n for n in networks)


# IPv6 ranges that carry an IPv4 address in their last 32 bits (NAT64, the old "IPv4-compatible" form).
EMBEDDING_V4 = [ipaddress.ip_network(n) for n in ("64:ff9b::/96", "64:ff9b:1::/48", "::/96")]


def _embedded_v4(ip):
    """The IPv4 address an IPv6 one stands for (mapped, 6to4, Teredo's client, NAT64, compatible), or None."""
    if ip.version != 6:
        return None
    if ip.ipv4_mapped or ip.sixtofour:
        return ip.ipv4_mapped or ip.sixtofour
    if ip.teredo:
        return ip.teredo[1]
    if any(ip in network for network in EMBEDDING_V4) and int(ip) & 0xFFFFFFFF and ip not in METADATA:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def check_address(address: str, port: int) -> None:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    # An IPv6 address that reaches an IPv4 one is judged as that one (a NAT64 or 6to4 gateway would go there).
    ip = _embedded_v4(ip) or ip
    networks = _allowed_networks()
    allowed = _in_allowed(ip, networks)
    if not allowed and (ip in METADATA or not ip.is_global or ip.is_multicast):
        raise EndpointRefused(f"the endpoint's address {ip} is not public (loopback, private or link-local).")
    if not allowed and port not in (80, 443, *getattr(settings, "WEBHOOK_ALLOWED_PORTS", [])):
        raise EndpointRefused(f"port {port} is not allowed for endpoints (80 and 443 are).")


def parse(url: str) -> tuple[str, str, int, str]:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise EndpointRefused(f"not a valid URL ({exc}).") from exc
    if parts.scheme not in STANDARD_PORTS or not parts.hostname:
        raise EndpointRefused("an endpoint must be an http:// or https:// URL with a host.")
    if parts.username or parts.password:
        raise EndpointRefused("an endpoint may not carry a user name or password.")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return parts.scheme, parts.hostname, port or STANDARD_PORTS[parts.scheme], path


def resolve(url: str, checked: dict | None = None) -> Target:
    """The checked target of `url`, or EndpointRefused. Resolves the name (DNS): never inside a transaction.

    `checked`: the outcome per (scheme, host, port) already found by this caller (a send task's window), each
    name resolved and checked once for all its endpoints."""
    scheme, host, port, path = parse(url)
    checked = {} if checked is None else checked
    key = (scheme, host, port)
    if key not in checked:
        try:
            checked[key] = _checked_address(host, port)
        except EndpointRefused as exc:
            checked[key] = exc
    if isinstance(checked[key], EndpointRefused):
        raise checked[key]
    return Target(scheme, host, checked[key], port, path)


def _checked_address(host: str, port: int) -> str:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise EndpointRefused(f"the endpoint's host {host} does not resolve ({exc}).") from exc
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    for address in addresses:  # every address the name gives must pass: a name cannot hide one bad address
        check_address(address, port)
    return addresses[0]
