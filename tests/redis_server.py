"""A Redis server of the test's own (redis-server on a free port) that the test can hang and resume.

Never the shared one: SIGSTOP on it would hang every other run on the machine.
"""

import contextlib
import shutil
import signal
import subprocess
import tempfile

import pytest

from tests.smtp_sink import free_port, wait_until


class RedisServer:
    def __init__(self):
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.dir = tempfile.mkdtemp(prefix="statuspage-redis-")
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", self.dir],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        wait_until(self.answers, 10, f"redis-server on port {self.port}")

    def answers(self) -> bool:
        import redis

        try:
            return redis.Redis(port=self.port, socket_timeout=0.5, socket_connect_timeout=0.5).ping()
        except redis.RedisError:
            return False

    def hang(self):
        """The process stays, its sockets accept, nothing answers (a stuck VM, a full disk, a GC pause)."""
        self.process.send_signal(signal.SIGSTOP)

    def resume(self):
        self.process.send_signal(signal.SIGCONT)

    def stop(self):
        self.resume()
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def own_redis():
    if not shutil.which("redis-server"):
        pytest.skip("needs redis-server")
    server = RedisServer()
    yield server
    server.stop()


@contextlib.contextmanager
def celery_app_on(url: str):
    """A Celery app of the test's own on `url`, made current and default (Celery's public API, no internals)."""
    from celery import Celery
    from django.conf import settings

    from tests.conftest import celery_app

    app = Celery(f"statuspage-own-redis-{url.rsplit(':', 1)[-1]}", set_as_current=False)
    app.config_from_object("django.conf:settings", namespace="CELERY")
    # The broker timeouts production uses with Redis (settings has them only when REDIS_URL is set).
    app.conf.update(
        broker_url=url, task_always_eager=False, broker_transport_options=dict(settings.REDIS_BROKER_TRANSPORT_OPTIONS)
    )
    app.set_current()
    app.set_default()
    try:
        yield app
    finally:
        celery_app.set_current()
        celery_app.set_default()
