"""The page stays up when the cache's Redis hangs (SIGSTOP) or dies (SIGKILL): short timeouts, a circuit
breaker, and one log line a minute instead of a traceback per request."""

import logging
import shutil
import signal
import socket
import subprocess
import time

import pytest
import redis
from django.core.cache import caches

from incidents import services
from incidents.choices import ComponentStatus as S
from incidents.public_cache import store
from incidents.public_cache.backend import Breaker
from notifications import ratelimit
from tests.conftest import skip_or_fail


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def own_redis(tmp_path):
    """A redis-server of this test's own, on a free port: the test stops and kills it (never the shared one)."""
    binary = shutil.which("redis-server")
    if not binary:
        skip_or_fail("needs redis-server")
    port = free_port()
    options = f"--port {port} --bind 127.0.0.1 --appendonly no --dir {tmp_path}".split()
    process = subprocess.Popen(
        [binary, *options, "--save", ""],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/1"
    deadline = time.monotonic() + 10
    while True:
        try:
            redis.Redis.from_url(url, socket_timeout=0.5).ping()
            break
        except redis.RedisError:
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                pytest.fail("redis-server did not start")
            time.sleep(0.05)
    yield process, url
    if process.poll() is None:
        process.send_signal(signal.SIGCONT)
        process.kill()
    process.wait(timeout=10)


@pytest.fixture
def cache_on_own_redis(own_redis, settings):
    process, url = own_redis
    settings.CACHES = {
        "default": {
            "BACKEND": "incidents.public_cache.backend.ResilientRedisCache",
            "LOCATION": url,
            "KEY_PREFIX": "outage-test",
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.1, "SOCKET_TIMEOUT": 0.1},
        }
    }
    assert type(caches["default"]).__name__ == "ResilientRedisCache"
    return process


def timed_get(client, path, **kwargs):
    started = time.monotonic()
    response = client.get(path, **kwargs)
    return response, time.monotonic() - started


def test_the_page_stays_up_when_redis_hangs_then_dies(client, page, make_component, cache_on_own_redis, caplog):
    process = cache_on_own_redis
    api = make_component("API")
    incident = services.incident_create(page=page, name="Slow API", body="Looking.", components={api: S.PARTIAL_OUTAGE})
    paths = ["/", f"/incidents/{incident.code}", "/api/v2/summary.json", "/history"]
    for path in paths:
        assert client.get(path).status_code == 200
    assert caches["default"].get("public:page:@default") is not None  # really on Redis

    caplog.set_level(logging.WARNING)
    process.send_signal(signal.SIGSTOP)
    store.local.clear()  # nothing from this process's memory: each page comes from Redis or the database
    slowest = 0.0
    for _ in range(5):
        for path in paths:
            response, seconds = timed_get(client, path, headers={"accept-encoding": "gzip, br"})
            assert response.status_code == 200, path
            slowest = max(slowest, seconds)
    # A write while Redis hangs shows at once: the page state comes from the database.
    services.component_set_status(component=api, status=S.MAJOR_OUTAGE)
    response, seconds = timed_get(client, "/")
    assert "Major Outage" in response.content.decode()
    slowest = max(slowest, seconds)
    # The other cache users do not hang either: the subscribe limit lets requests through.
    started = time.monotonic()
    assert all(ratelimit.allow("ip:192.0.2.1", 100, 60) for _ in range(20))
    assert client.post("/subscribe", {"email": "ann@example.com"}).status_code == 200
    assert time.monotonic() - started < 1

    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)
    for _ in range(5):
        for path in paths:
            response, seconds = timed_get(client, path)
            assert response.status_code == 200, path
            slowest = max(slowest, seconds)
    assert slowest < 1, f"a request took {slowest:.2f} s"

    logged = [r for r in caplog.records if r.name.startswith(("statuspage.cache", "django_redis", "django.request"))]
    assert 1 <= len(logged) <= 2, [r.getMessage() for r in logged]
    assert all(r.exc_info is None for r in logged)
    assert "unavailable" in logged[0].getMessage()


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_the_breaker_skips_the_cache_then_lets_one_probe_through(monkeypatch, caplog):
    clock = Clock()
    monkeypatch.setattr(time, "monotonic", clock)
    breaker = Breaker("test", seconds=5, report_every=60)
    assert breaker.allow()
    breaker.failed(ConnectionError("refused"))
    assert not breaker.allow()
    clock.now += 4.9
    assert not breaker.allow()
    clock.now += 0.2
    assert breaker.allow()  # the probe
    assert not breaker.allow()  # the others skip while it runs
    breaker.failed(ConnectionError("refused"))
    clock.now += 5.1
    assert breaker.allow()
    breaker.succeeded()
    assert breaker.allow()
    assert not breaker.is_open
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1  # the second failure, 5 s after the first, is counted, not logged
