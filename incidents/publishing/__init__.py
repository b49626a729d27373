"""Static publishing: a copy of every public page in a directory or bucket, served without the app.

With PUBLISH_TARGET set, every committed change republishes its page through the task queue
(`publish_soon`, called on commit by incidents.services.page_changed), and beat republishes every page
each minute for what moves with the clock. `python manage.py publish` publishes everything at once.
This module imports no models: services.py imports it.
"""

import contextlib
import logging

from django.conf import settings
from django.core.cache import cache

log = logging.getLogger(__name__)

# A burst of writes is published together: the first write of a burst enqueues the task this much later,
# the writes that follow before the task starts ride along with it.
DEBOUNCE_SECONDS = 0.3
PENDING_TIMEOUT = 30  # a task lost with the broker holds back further enqueues at most this long (beat covers it)


def pending_key(page_id: int) -> str:
    return f"publish:pending:{page_id}"


def claim(key: str, value, timeout: float) -> bool | None:
    """cache.add for a lock or a flag: True if taken, False if someone else holds it, None if the cache
    does not answer (then the caller goes on without it: publishing must not stop with the cache)."""
    try:
        add_or_raise = getattr(cache, "add_or_raise", None)  # incidents.public_cache.backend.ResilientRedisCache
        taken = add_or_raise(key, value, timeout) if add_or_raise else cache.add(key, value, timeout)
    except Exception:
        return None
    return None if taken is None else bool(taken)  # None: a cache that ignores its errors


def _per_process_cache() -> bool:
    from django.core.cache import caches
    from django.core.cache.backends.locmem import LocMemCache

    return isinstance(caches["default"], LocMemCache)


def publish_soon(page_id: int) -> None:
    """Enqueue the republication of a page, unless a task for it is already waiting to start.

    The task clears the flag before it reads the page, so a change committed after that enqueues a new
    task: the last write of a burst is always published. Never raises: the write has committed already.
    """
    if not settings.PUBLISH_TARGET:
        return
    # A cache of this process only (local memory, without REDIS_URL) never sees the worker's task clear the
    # flag: there it lasts the debounce itself (a write before the task starts still commits before it reads).
    timeout = DEBOUNCE_SECONDS if _per_process_cache() else PENDING_TIMEOUT
    if claim(pending_key(page_id), 1, timeout) is False:
        return  # a task is waiting; it will read this change (no cache, no debounce: publish anyway)
    from incidents.tasks import publish_page

    try:
        # Inside a web request (after commit): no retry against a broker that is down (beat covers a lost task).
        publish_page.apply_async((page_id,), countdown=DEBOUNCE_SECONDS, retry=False)
    except Exception:
        log.warning("Could not enqueue the publication of page %s; beat republishes within a minute", page_id)
        with contextlib.suppress(Exception):
            cache.delete(pending_key(page_id))
