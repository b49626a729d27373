"""Where rendered responses live: this process's memory first, then the shared cache (Redis).

An entry is one representation: (coding, headers, body), stored under its address, the page's version,
its last change and the minute. Entries are never stale, only unused: a new version or a new minute makes
new keys. So the local copy needs no invalidation, only a size bound (least recently used goes first),
and it keeps serving the pages while Redis is away.
"""

import threading
from collections import OrderedDict

from django.core.cache import cache

ENTRY_TIMEOUT = 120  # seconds in the shared cache: an entry is valid for its minute, at most 60 s
LOCAL_BYTES = 32 * 1024 * 1024  # per process

Entry = tuple[str, list[tuple[str, str]], bytes]  # coding, headers, body


def _entry_size(entry: Entry) -> int:
    return len(entry[2])


class LocalEntries:
    """A small least-recently-used map bounded by bytes, shared by the threads of one process.

    `size` tells an item's bytes (by default an Entry's body)."""

    def __init__(self, limit: int = LOCAL_BYTES, size=_entry_size):
        self.limit, self.size = limit, size
        self._items: OrderedDict = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def get(self, key):
        with self._lock:
            entry = self._items.get(key)
            if entry is not None:
                self._items.move_to_end(key)
            return entry

    def put(self, key, entry) -> None:
        size = self.size(entry)
        if size > self.limit // 4:
            return
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._size -= self.size(old)
            self._items[key] = entry
            self._size += size
            while self._size > self.limit:
                _, dropped = self._items.popitem(last=False)
                self._size -= self.size(dropped)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._size = 0


local = LocalEntries()


def entry_key(base: str, coding: str) -> str:
    return f"public:entry:{base}:{coding}"


def get(base: str, coding: str) -> Entry | None:
    key = entry_key(base, coding)
    entry = local.get(key)
    if entry is None:
        entry = cache.get(key)
        if entry is not None:
            local.put(key, entry)
    return entry


def put(base: str, entries: dict[str, Entry]) -> None:
    values = {entry_key(base, coding): entry for coding, entry in entries.items()}
    for key, entry in values.items():
        local.put(key, entry)
    cache.set_many(values, ENTRY_TIMEOUT)
