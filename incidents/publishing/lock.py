"""One publisher at a time per target: a lock in the cache, shared by every web process and worker.

On Redis it is redis-py's Lock (django-redis's `cache.lock`): taken with SET NX and a token, extended and
released by compare-and-set scripts that only touch a lock still holding this publisher's token. Its calls go
to Redis directly, not through the cache's circuit breaker: a publish whose own cache calls timed out (the
breaker then answers every call as a miss for a few seconds) still releases its lock; before, its release read
"not mine" and the lock stayed for ten minutes, and every later publication gave up as Busy.

The lock lasts LOCK_TIMEOUT seconds and the publisher extends it as it goes (`keep`), so one that died, or
could not release it while Redis was away, holds the next ones back LOCK_TIMEOUT seconds at most. A cache that
does not answer locks nothing: publishing goes on without it (each file is replaced whole). Without Redis (a
cache of this process) the lock is a cache.add.
"""

import hashlib
import logging
import time
import uuid

from django.core.cache import cache
from redis.exceptions import LockNotOwnedError, RedisError

log = logging.getLogger(__name__)

LOCK_TIMEOUT = 15  # seconds a lock lasts unless its publisher extends it
LOCK_RENEW = 3  # seconds between a publisher's extensions of its lock
LOCK_WAIT = 10  # seconds a publisher waits for another one to finish
RELEASE_TRIES = 3
FAILURES = (RedisError, OSError)


class Busy(RuntimeError):
    """Another publisher holds the target's lock (or took it over after this one's expired)."""


class TargetLock:
    def __init__(self, target, wait: float = LOCK_WAIT):
        self.key = "publish:lock:" + hashlib.sha256(str(target).encode()).hexdigest()[:16]
        self.token = uuid.uuid4().hex
        self.wait = wait
        self._redis_lock = None  # redis-py's Lock, when held on Redis
        self._held = False  # held through cache.add (a cache of this process)
        self._kept_at = 0.0

    def __enter__(self):
        if hasattr(cache, "lock"):  # django-redis
            self._take_on_redis()
        else:
            self._take_with_add()
        self._kept_at = time.monotonic()
        return self

    def _take_on_redis(self) -> None:
        lock = cache.lock(self.key, timeout=LOCK_TIMEOUT, sleep=0.05, thread_local=False)
        try:
            taken = lock.acquire(blocking_timeout=self.wait, token=self.token)
        except FAILURES:
            log.warning("Publishing without a lock: the cache does not answer")
            return
        if not taken:
            raise Busy(f"another publisher holds {self.key}")
        self._redis_lock = lock

    def _take_with_add(self) -> None:
        from incidents.publishing import claim

        deadline = time.monotonic() + self.wait
        while True:
            taken = claim(self.key, self.token, LOCK_TIMEOUT)
            if taken is None:
                log.warning("Publishing without a lock: the cache does not answer")
                return
            if taken:
                self._held = True
                return
            if time.monotonic() >= deadline:
                raise Busy(f"another publisher holds {self.key}")
            time.sleep(0.05)

    def keep(self) -> None:
        """Extend the lock for another LOCK_TIMEOUT seconds (at most every LOCK_RENEW seconds; call it often).
        Busy if the lock expired meanwhile (e.g. Redis hung longer than that) and may be another publisher's."""
        now = time.monotonic()
        if now - self._kept_at < LOCK_RENEW:
            return
        self._kept_at = now
        if self._redis_lock is not None:
            try:
                self._redis_lock.reacquire()
            except LockNotOwnedError:
                self._redis_lock = None
                raise Busy(f"the lock {self.key} expired during the publication") from None
            except FAILURES:
                pass  # not extended this time: the next call tries again
        elif self._held:
            cache.touch(self.key, LOCK_TIMEOUT)

    def __exit__(self, *exc):
        if self._redis_lock is not None:
            self._release_on_redis()
        elif self._held:
            try:
                if cache.get(self.key) == self.token:
                    cache.delete(self.key)
            except Exception:
                pass

    def _release_on_redis(self) -> None:
        for attempt in range(RELEASE_TRIES):
            try:
                self._redis_lock.release()
                return
            except LockNotOwnedError:
                return  # it expired already
            except FAILURES:
                if attempt + 1 < RELEASE_TRIES:
                    time.sleep(0.1)
        log.warning("Could not release the publishing lock (the cache does not answer); it expires within %d s",
                    LOCK_TIMEOUT)  # fmt: skip
