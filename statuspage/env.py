"""Strict, typed readers for environment variables.

Each reader names the variable in its error, so a malformed value stops start-up with a message an
operator can act on.
"""

import os
from datetime import date
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip()


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false, yes/no, on/off), got {value!r}")


def env_int(name: str, default: int, *, minimum: int | None = None, maximum: int | None = None) -> int:
    value = os.environ.get(name)
    if value is None or not value.strip():
        return default
    try:
        number = int(value.strip())
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, got {value!r}") from None
    if minimum is not None and number < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, got {number}")
    if maximum is not None and number > maximum:
        raise ImproperlyConfigured(f"{name} must be at most {maximum}, got {number}")
    return number


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if value is None:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def env_networks(name: str) -> list[str]:
    """A comma-separated list of CIDR ranges ("10.0.0.0/8,fd00::/8"), each checked; stops start-up if one is bad."""
    import ipaddress

    networks = []
    for item in env_list(name, []):
        try:
            networks.append(str(ipaddress.ip_network(item, strict=False)))
        except ValueError as exc:
            raise ImproperlyConfigured(f"{name}: {item!r} is not a CIDR range ({exc}).") from exc
    return networks


def env_ports(name: str, default: list[int]) -> list[int]:
    """A comma-separated list of TCP ports ("80,443,8443"); stops start-up if one is not a port."""
    ports = []
    for item in env_list(name, [str(port) for port in default]):
        if not item.isdigit() or not 1 <= int(item) <= 65535:
            raise ImproperlyConfigured(f"{name}: {item!r} is not a TCP port (1 to 65535).")
        ports.append(int(item))
    return ports


def env_url(name: str, default: str | None = None, *, schemes: tuple[str, ...]) -> str | None:
    value = env_str(name)
    if value is None or value == "":
        return default
    parts = urlsplit(value)
    if parts.scheme not in schemes:
        raise ImproperlyConfigured(
            f"{name} must be a URL starting with one of {', '.join(s + '://' for s in schemes)}, got {value!r}"
        )
    if parts.scheme not in ("sqlite", "memory") and not parts.netloc:
        raise ImproperlyConfigured(f"{name} has no host: {value!r}")
    return value


def env_date(name: str, default: date) -> date:
    value = env_str(name)
    if not value:
        return default
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a date such as 1990-01-01, got {value!r}") from None


def env_addresses(name: str) -> list[tuple[str, str]]:
    """A comma-separated list of email addresses ("Ops <ops@example.com>,dev@example.com") as (name, address)."""
    from email.utils import parseaddr

    from django.core.exceptions import ValidationError
    from django.core.validators import validate_email

    addresses = []
    for item in env_list(name, []):
        display, address = parseaddr(item)
        try:
            validate_email(address)
        except ValidationError:
            raise ImproperlyConfigured(f"{name} must be email addresses separated by commas, got {item!r}") from None
        addresses.append((display or address, address))
    return addresses
