"""django-redis behind a circuit breaker: a Redis that hangs or dies costs one short timeout, not a hang.

Every cache call gets short socket and connect timeouts (settings: ~100 ms). After a failure the breaker
opens: for BREAKER_SECONDS every call of every thread in the process returns at once as a miss (get →
default, set/add → False, incr → None), so the public pages render from the database and the rate limits
let requests through. Then one call probes Redis; success closes the breaker. The failure is logged once
per REPORT_SECONDS per process, as one line without a traceback (with the count of failures since).
"""

import logging
import threading
import time

from django.conf import settings
from django.core.cache import close_caches
from django.core.cache.backends.base import DEFAULT_TIMEOUT, BaseCache
from django.core.signals import request_finished
from django.utils.module_loading import import_string
from django_redis.cache import RedisCache
from django_redis.exceptions import ConnectionInterrupted
from redis.exceptions import RedisError

logger = logging.getLogger("statuspage.cache")

BREAKER_SECONDS = 5.0
REPORT_SECONDS = 60.0
FAILURES = (ConnectionInterrupted, RedisError, OSError)


class Breaker:
    """Shared by every cache object (one per thread) that talks to the same Redis."""

    def __init__(self, name: str, seconds: float = BREAKER_SECONDS, report_every: float = REPORT_SECONDS):
        self.name, self.seconds, self.report_every = name, seconds, report_every
        self._open_until = 0.0
        self._failures = 0
        self._reported_at: float | None = None
        self._lock = threading.Lock()

    @property
    def is_open(self) -> bool:
        return bool(self._open_until)

    def allow(self) -> bool:
        if not self._open_until:
            return True
        now = time.monotonic()
        with self._lock:
            if now < self._open_until:
                return False
            self._open_until = now + self.seconds  # this call probes; the others keep skipping meanwhile
            return True

    def failed(self, exc: BaseException) -> None:
        now = time.monotonic()
        with self._lock:
            self._open_until = now + self.seconds
            self._failures += 1
            if self._reported_at is not None and now - self._reported_at < self.report_every:
                return
            self._reported_at, failures, self._failures = now, self._failures, 0
        cause = exc.__cause__ or exc
        logger.warning(
            "Cache %s unavailable (%s: %s); served without it, retried every %g s (%d failure(s) in the last %g s)",
            self.name, type(cause).__name__, cause, self.seconds, failures, self.report_every,
        )  # fmt: skip

    def succeeded(self) -> None:
        if self._open_until:
            with self._lock:
                was_open, self._open_until = self._open_until, 0.0
            if was_open:
                logger.info("Cache %s is back", self.name)


_breakers: dict[str, Breaker] = {}
_breakers_lock = threading.Lock()


def breaker_for(location: str) -> Breaker:
    with _breakers_lock:
        return _breakers.setdefault(location, Breaker(location.rsplit("@", 1)[-1]))


def _guarded(name: str, fallback):
    parent = getattr(RedisCache, name)

    def method(self, *args, **kwargs):
        breaker = self.breaker
        if not breaker.allow():
            return fallback(*args, **kwargs)
        try:
            result = parent(self, *args, **kwargs)
        except FAILURES as exc:
            breaker.failed(exc)
            return fallback(*args, **kwargs)
        breaker.succeeded()
        return result

    method.__name__ = name
    method.__doc__ = parent.__doc__
    return method


def _default(key, default=None, *args, **kwargs):
    return default


class CacheUnavailable(RuntimeError):
    """The cache did not answer (or its breaker is open): not the same as a key that is already there."""


class ResilientRedisCache(RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self.breaker = breaker_for(server if isinstance(server, str) else ",".join(server))

    def add_or_raise(self, key, value, timeout=DEFAULT_TIMEOUT, version=None) -> bool:
        """add() for locks and debounce flags: False only when the key is held; CacheUnavailable when the
        cache does not answer (`add` reads both as False, which a lock would take for "held by another")."""
        if not self.breaker.allow():
            raise CacheUnavailable(self.breaker.name)
        try:
            result = RedisCache.add(self, key, value, timeout, version=version)
        except FAILURES as exc:
            self.breaker.failed(exc)
            raise CacheUnavailable(self.breaker.name) from exc
        self.breaker.succeeded()
        return bool(result)

    get = _guarded("get", _default)
    get_many = _guarded("get_many", lambda *a, **k: {})
    set = _guarded("set", lambda *a, **k: False)
    add = _guarded("add", lambda *a, **k: False)
    set_many = _guarded("set_many", lambda *a, **k: [])
    touch = _guarded("touch", lambda *a, **k: False)
    delete = _guarded("delete", lambda *a, **k: False)
    delete_many = _guarded("delete_many", lambda *a, **k: 0)
    delete_pattern = _guarded("delete_pattern", lambda *a, **k: 0)
    clear = _guarded("clear", lambda *a, **k: None)
    incr = _guarded("incr", lambda *a, **k: None)
    decr = _guarded("decr", lambda *a, **k: None)
    has_key = _guarded("has_key", lambda *a, **k: False)
    ttl = _guarded("ttl", lambda *a, **k: None)
    expire = _guarded("expire", lambda *a, **k: False)
    persist = _guarded("persist", lambda *a, **k: False)
    keys = _guarded("keys", lambda *a, **k: [])
    iter_keys = _guarded("iter_keys", lambda *a, **k: iter(()))

    def close(self, **kwargs):
        """Django calls this after every request: django-redis keeps its connection pool unless
        DJANGO_REDIS_CLOSE_CONNECTION is set (we never set it), so there is nothing to do, and no breaker to ask."""
        if getattr(settings, "DJANGO_REDIS_CLOSE_CONNECTION", False):
            RedisCache.close(self, **kwargs)


def _close_does_nothing(backend: str) -> bool:
    cls = import_string(backend)
    if issubclass(cls, ResilientRedisCache):
        return not getattr(settings, "DJANGO_REDIS_CLOSE_CONNECTION", False)
    return cls.close is BaseCache.close  # local memory, files, the database, dummy: nothing to close


def skip_idle_close(*, setting: str | None = None, **kwargs) -> None:
    """Django closes every cache after every request (request_finished → close_caches). When no configured cache
    does anything on close (ours keeps its pool, local memory holds no connection), that receiver is
    disconnected: asking each thread's caches cost a cached hit about a tenth of its time. Checked at start-up
    and again whenever CACHES changes (IncidentsConfig.ready)."""
    if setting not in (None, "CACHES", "DJANGO_REDIS_CLOSE_CONNECTION"):
        return
    if all(_close_does_nothing(alias["BACKEND"]) for alias in settings.CACHES.values()):
        request_finished.disconnect(close_caches)
    else:
        request_finished.connect(close_caches)
