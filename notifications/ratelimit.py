"""The outbound rate limit, shared by all workers through the cache (Redis in production).

A fixed one-second window: each message takes a number from the window's counter; past the limit the
sender sleeps until the next second. The provider's limit is respected rather than hit.
"""

import time

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
