"""Rate limits: the outbound one, shared by all workers through the cache (Redis in production), and the
subscribe limits, counted in the database so that they hold when Redis is away.

Outbound: a fixed one-second window; each message takes a number from the window's counter; past the limit
the sender sleeps until the next second. The provider's limit is respected rather than hit.
"""

import ipaddress
import time
from datetime import UTC, datetime

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import F

from notifications import conf
from notifications.models import RequestCount


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


def allow(key: str, limit: int, seconds: int, now=time.time) -> bool:
    """Count one request against `limit` per `seconds` (a fixed window); False once it is exceeded.

    One conditional UPDATE in the usual case; the window's first request inserts the row. Two first
    requests at once: one inserts, the other counts on the row it finds.
    """
    key = key[:300]
    window = int(now() // seconds)
    counter = RequestCount.objects.filter(key=key, window=window, count__lt=limit)
    if counter.update(count=F("count") + 1):
        return True
    if RequestCount.objects.filter(key=key, window=window).exists():
        return False  # at the limit
    expires = datetime.fromtimestamp((window + 1) * seconds, tz=UTC)
    try:
        with transaction.atomic():
            RequestCount.objects.create(key=key, window=window, count=1, expires_at=expires)
    except IntegrityError:  # created at the same instant by another request
        return bool(counter.update(count=F("count") + 1))
    return limit >= 1


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
