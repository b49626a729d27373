"""The outbound rate limit, shared by all workers through the cache (Redis in production).

A fixed one-second window: each message takes a number from the window's counter; past the limit the
sender sleeps until the next second. The provider's limit is respected rather than hit.
"""

import ipaddress
import time

from django.conf import settings
from django.core.cache import cache

from notifications import conf


def acquire(now=time.time, sleep=time.sleep) -> None:
    limit = conf.rate_limit()
    if not limit:
        return
    while True:
        moment = now()
        window = int(moment)
        key = f"notifications:rate:{window}"
        try:
            cache.add(key, 0, timeout=10)
            count = cache.incr(key)
        except Exception:  # the counter is gone or the cache is down: send, rather than stall the outbox
            return
        if count is None or count <= limit:
            return
        sleep(max(window + 1 - moment, 0.001))


def allow(key: str, limit: int, seconds: int) -> bool:
    """Count one request against `limit` per `seconds` (a fixed window); False once it is exceeded."""
    window = int(time.time() // seconds)
    cache_key = f"notifications:limit:{key}:{window}"
    try:
        cache.add(cache_key, 0, timeout=seconds)
        count = cache.incr(cache_key)
    except Exception:
        return True
    return count is None or count <= limit


def client_ip(request) -> str:
    """The client's address for the per-IP limits.

    REMOTE_ADDR by default. Behind proxies, TRUSTED_PROXY_HOPS=N reads X-Forwarded-For (or CLIENT_IP_HEADER) from
    the right: each proxy appends the address it received the request from, so the Nth entry from the right was
    written by our outermost proxy, while anything to its left came from the client and may be forged. A single
    CLIENT_IP_HEADER such as X-Real-IP (hops 0) is read the same way, as one hop. A request that carries fewer
    entries than that, or not an address there, did not come through the proxies: its REMOTE_ADDR is used.
    """
    hops = settings.TRUSTED_PROXY_HOPS
    header = settings.CLIENT_IP_HEADER or ("X-Forwarded-For" if hops else "")
    if header:
        entries = [entry.strip() for entry in request.headers.get(header, "").split(",")]
        entries = [entry for entry in entries if entry]
        if len(entries) >= max(hops, 1):
            candidate = entries[-max(hops, 1)]
            try:
                return str(ipaddress.ip_address(candidate))
            except ValueError:
                pass
    return request.META.get("REMOTE_ADDR", "unknown")
