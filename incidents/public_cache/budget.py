"""A bound on the public renders that are not cached (searches, deep history pages).

Anyone can ask for `/history?q=<anything>`: such answers are not cached (they would fill the cache) and
each costs a render, so this process renders at most RATE of them per second (BURST at once); past that
the visitor is asked to retry in a second. In-process on purpose: it needs no cache round trip and keeps
working when Redis is down.
"""

import threading
import time

RATE = 10.0  # uncached renders per second per process
BURST = 20


class TokenBucket:
    def __init__(self, rate: float = RATE, burst: int = BURST, clock=time.monotonic):
        self.rate, self.burst, self.clock = rate, burst, clock
        self._tokens = float(burst)
        self._at = clock()
        self._lock = threading.Lock()

    def take(self) -> bool:
        with self._lock:
            now = self.clock()
            self._tokens = min(self.burst, self._tokens + (now - self._at) * self.rate)
            self._at = now
            if self._tokens < 1:
                return False
            self._tokens -= 1
            return True


uncached = TokenBucket()
