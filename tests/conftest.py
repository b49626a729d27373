import os
import shutil
import uuid

import pytest
from django.core.cache import cache
from django.db import connections as db_connections

from incidents import services

REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES") == "1"

# Under pytest-xdist each worker has its own test database (pytest-django's suffix) and its own cache keys, so
# that one worker's clean-up (`delete_pattern`) never takes another's entries.
if os.environ.get("PYTEST_XDIST_WORKER"):
    from django.conf import settings as _settings

    _default_cache = _settings.CACHES["default"]
    _default_cache["KEY_PREFIX"] = f"{_default_cache.get('KEY_PREFIX', '')}-{os.environ['PYTEST_XDIST_WORKER']}"


def skip_or_fail(reason: str):
    """A test that needs a missing service skips, or fails under REQUIRE_SERVICES=1 (CI)."""
    if REQUIRE_SERVICES:
        pytest.fail(f"{reason} (REQUIRE_SERVICES=1)")
    pytest.skip(reason)


@pytest.fixture(autouse=True)
def _plain_static_storage(settings):
    # The manifest storage needs collectstatic; tests render templates without it.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def clear_cache() -> None:
    """Empty this test's cache: on Redis only the keys under this worker's prefix (django-redis's clear() flushes
    the whole database, the other xdist worker's keys and locks with it)."""
    if hasattr(cache, "delete_pattern"):
        cache.delete_pattern("*")
    else:
        cache.clear()


@pytest.fixture(autouse=True)
def _fresh_local_cache(settings):
    from incidents.public_cache.state import forget_local

    # Each test has a new database: no page's state or response from an earlier test may be served.
    forget_local()
    if settings.CACHES["default"]["BACKEND"].endswith("LocMemCache"):
        cache.clear()
    elif hasattr(cache, "delete_pattern"):
        cache.delete_pattern("public:*")


@pytest.fixture(autouse=True)
def _fresh_notification_limits():
    # The rate-limit counters live in the cache; a Redis cache outlives each test.
    if hasattr(cache, "delete_pattern"):
        cache.delete_pattern("notifications:*")


@pytest.fixture
def postgres(settings):
    """The test needs PostgreSQL (DATABASE_URL)."""
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        skip_or_fail("needs PostgreSQL: set DATABASE_URL")


@pytest.fixture
def redis_url():
    """A reachable Redis (REDIS_URL)."""
    url = os.environ.get("REDIS_URL")
    if not url:
        skip_or_fail("needs Redis: set REDIS_URL")
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        skip_or_fail(f"Redis at REDIS_URL does not answer: {exc}")
    return url


@pytest.fixture
def page(db):
    return services.page_create(name="Acme Cloud", time_zone="UTC")


@pytest.fixture
def make_component(page):
    def make(name="API", **kwargs):
        kwargs.setdefault("page", page)
        return services.component_create(name=name, **kwargs)

    return make


# -- Celery and SMTP for the notification tests ------------------------------------------------------------
# One queue and one Redis key prefix per test run, so that runs sharing a Redis never see each other's tasks.
_RUN = f"statuspage-test-{os.getpid()}-{uuid.uuid4().hex[:8]}"


def _configure_celery_for_tests():
    from statuspage.celery import app

    app.conf.task_default_queue = _RUN
    app.conf.task_default_exchange = _RUN
    app.conf.task_default_routing_key = _RUN
    # The settings' short broker timeouts stay; only the key prefix is this run's.
    app.conf.broker_transport_options = {**app.conf.broker_transport_options, "global_keyprefix": f"{_RUN}:"}
    return app


celery_app = _configure_celery_for_tests()


@pytest.fixture(scope="session", autouse=True)
def _forget_this_runs_broker_keys():
    """Leave nothing of this run in a shared Redis."""
    yield
    url = os.environ.get("REDIS_URL")
    if url:
        import redis

        try:
            client = redis.Redis.from_url(url, socket_connect_timeout=2)
            for key in client.scan_iter(match=f"{_RUN}*"):
                client.delete(key)
        except redis.RedisError:
            pass


@pytest.fixture(autouse=True)
def _tasks_in_process():
    """Tasks run in-process after commit, unless the test starts a real worker (`outbox_worker`)."""
    saved = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = saved


def _close_worker_connections(**kwargs):
    # The worker runs in its own thread with its own connections: close them so the test database can go.
    db_connections.close_all()


@pytest.fixture
def outbox_app(redis_url):
    """The Celery app of `outbox_worker`: the project's, on the shared Redis (a module may bring its own)."""
    celery_app.conf.broker_url = redis_url
    return celery_app


@pytest.fixture
def outbox_worker(outbox_app, transactional_db, settings):
    """A real Celery worker (solo pool, in a thread) on the Redis broker."""
    from celery.contrib.testing.worker import start_worker
    from celery.signals import task_postrun

    outbox_app.conf.task_always_eager = False
    task_postrun.connect(_close_worker_connections, weak=False)
    try:
        with start_worker(outbox_app, pool="solo", perform_ping_check=False, loglevel="WARNING", shutdown_timeout=20):
            yield outbox_app
    finally:
        task_postrun.disconnect(_close_worker_connections)
        outbox_app.conf.task_always_eager = True


@pytest.fixture
def smtp(settings):
    """A real SMTP server (aiosmtpd) on 127.0.0.1; Django sends to it over SMTP."""
    from tests.smtp_sink import SmtpSink

    sink = SmtpSink()
    sink.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = sink.port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_TIMEOUT = 5
    yield sink
    sink.stop()


@pytest.fixture
def make_user(db):
    from django.contrib.auth.models import Group, User

    from tests.api_support import grant_role

    def make(username, role=None, *, staff=True, password="correct-horse-battery", pages=None):
        """A user in a role (the group, and a member with that role of `pages`: default every page so far)."""
        user = User.objects.create_user(username, f"{username}@example.com", password, is_staff=staff)
        if role:
            user.groups.add(Group.objects.get(name=role))
            grant_role(user, role, pages)
        return user

    return make


@pytest.fixture
def responder(make_user, page):
    return make_user("rita", "Responders")


@pytest.fixture
def page_admin(make_user, page):
    return make_user("adam", "Page admins")


CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run"]  # fmt: skip


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium driven by Playwright (never a downloaded browser)."""
    if not shutil.which(CHROMIUM):
        skip_or_fail("needs Debian's chromium at /usr/bin/chromium")
    # Playwright's sync API runs an event loop in this thread; the test's own ORM calls are synchronous.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


# The API tests' fixtures (keys in each role, a second page, a manage API client).
from tests.api_support import *  # noqa: E402, F403

# The published demo site the publishing tests share (tests/publishing_helpers.py).
from tests.publishing_helpers import site  # noqa: E402, F401
from tests.redis_server import own_redis  # noqa: E402, F401 - a Redis of the test's own, to hang
