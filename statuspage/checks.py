"""Start-up checks that tie settings together (each names the settings involved, so an operator can act)."""

from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured
from django.utils.http import is_same_domain


def url_host(url: str) -> str:
    """The host of a URL as a browser sends it in the Host header (IPv6 in brackets), lower-cased."""
    host = (urlsplit(url).hostname or "").lower()
    return f"[{host}]" if ":" in host else host


def host_allowed(host: str, allowed_hosts: list[str]) -> bool:
    """Django's own rule (validate_host): '*', an exact name, or '.example.com' for a domain and its subdomains."""
    return any(pattern == "*" or is_same_domain(host, pattern.lower()) for pattern in allowed_hosts)


def check_site_url_allowed(site_url: str, allowed_hosts: list[str]) -> None:
    """The links in emails and feeds point at SITE_URL: the site must answer there, not with 400 Bad Request."""
    host = url_host(site_url)
    if not host_allowed(host, allowed_hosts):
        raise ImproperlyConfigured(
            f"SITE_URL's host {host!r} is not in ALLOWED_HOSTS ({','.join(allowed_hosts) or 'empty'}): every link "
            f"in emails and feeds would answer 400 Bad Request. Add {host} to ALLOWED_HOSTS, or set SITE_URL to "
            "the address the site is served at."
        )
