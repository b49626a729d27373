"""Django closes every cache after every request; when no configured cache does anything on close, a request
no longer asks them (a tenth of a cached hit's time), and a cache that needs its close still gets it."""

from django.core.cache import caches
from django.core.cache.backends.locmem import LocMemCache

from incidents.public_cache.backend import ResilientRedisCache
from tests.test_cache_outage import free_port

closed = []


class ClosingCache(LocMemCache):
    def close(self, **kwargs):
        closed.append(self)


def test_a_request_asks_no_cache_to_close_unless_one_needs_it(client, settings, monkeypatch):
    monkeypatch.setattr(ResilientRedisCache, "close", lambda self, **kwargs: closed.append(self))
    settings.CACHES = {
        "default": {
            "BACKEND": "incidents.public_cache.backend.ResilientRedisCache",
            "LOCATION": f"redis://127.0.0.1:{free_port()}/1",
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.1, "SOCKET_TIMEOUT": 0.1},
        }
    }
    closed.clear()
    assert isinstance(caches["default"], ResilientRedisCache)  # in use in this thread: close_caches would close it
    client.get("/api/v2/nothing.json")
    assert closed == []
    settings.CACHES = {"default": {"BACKEND": "tests.test_cache_close.ClosingCache"}}
    assert isinstance(caches["default"], ClosingCache)
    client.get("/api/v2/nothing.json")
    assert [c for c in closed if isinstance(c, ClosingCache)] == [caches["default"]]
