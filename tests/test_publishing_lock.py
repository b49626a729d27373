"""The publishers' lock: a publish whose cache calls fail (Redis hung a moment) still lets the next one in at
once, and a lock nobody releases lasts seconds, not the ten minutes that held a write out of the copy."""

import pytest
from django.core.cache import cache, caches

from incidents import services
from incidents.publishing import run
from incidents.publishing import site as site_module
from incidents.publishing.run import publish_all
from tests.redis_server import own_redis  # noqa: F401


@pytest.fixture
def cache_on_hangable_redis(own_redis, settings):  # noqa: F811
    settings.CACHES = {
        "default": {
            "BACKEND": "incidents.public_cache.backend.ResilientRedisCache",
            "LOCATION": own_redis.url,
            "KEY_PREFIX": "publish-lock",
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.1, "SOCKET_TIMEOUT": 0.1},
        }
    }
    assert type(caches["default"]).__name__ == "ResilientRedisCache"
    return own_redis


def test_a_publish_whose_cache_calls_time_out_does_not_hold_back_the_next_one(
    site, cache_on_hangable_redis, monkeypatch, caplog
):
    redis_server = cache_on_hangable_redis
    render = site_module.Renderer.get
    hung = []

    def render_while_redis_hangs_once(self, url):
        if not hung:  # the first render's cache calls time out (the breaker opens), then Redis is back
            hung.append(url)
            redis_server.hang()
            try:
                return render(self, url)
            finally:
                redis_server.resume()
        return render(self, url)

    monkeypatch.setattr(site_module.Renderer, "get", render_while_redis_hangs_once)
    assert "index.html" in publish_all().written
    assert hung
    # The publish saw the failure (before: its release went through the open breaker). Not `breaker.is_open`:
    # on a slow machine the rest of the publish outlasts the breaker's 5 s, and a probe closes it again.
    assert any("unavailable" in record.getMessage() for record in caplog.records)
    monkeypatch.setattr(site_module.Renderer, "get", render)
    cache.breaker.succeeded()  # a while later the cache answers again (a next call closes the breaker)
    services.component_create(page=site.default, name="Written after the hiccup")
    publish_all(wait=0.5)  # before: Busy, the lock held for ten minutes
    assert "Written after the hiccup" in (site.root / "index.html").read_text()


def test_a_lock_left_behind_expires_within_seconds(site, cache_on_hangable_redis):
    import redis

    with run.TargetLock(run._target()) as lock:
        key = cache.make_key(lock.key)
        ttl = redis.Redis.from_url(cache_on_hangable_redis.url).ttl(key)
        assert 0 < ttl <= run.LOCK_TIMEOUT <= 30
