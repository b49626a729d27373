"""Settings come from the environment; a malformed value stops start-up with a message naming it."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CONTRACT_VARS = (
    "SECRET_KEY DEBUG ALLOWED_HOSTS SITE_URL DATABASE_URL REDIS_URL EMAIL_HOST EMAIL_PORT EMAIL_HOST_USER "
    "EMAIL_HOST_PASSWORD EMAIL_USE_TLS DEFAULT_FROM_EMAIL EMAIL_BACKEND CACHE_REDIS_URL"
).split()


def load_settings(**env) -> subprocess.CompletedProcess:
    """Import the settings in a fresh interpreter with exactly these contract variables set."""
    clean = {k: v for k, v in os.environ.items() if k not in CONTRACT_VARS}
    clean.update(env)
    code = (
        "import django; from django.conf import settings; django.setup(); "
        "print(settings.DATABASES['default']['ENGINE'], settings.CACHES['default']['BACKEND'], "
        "settings.CELERY_TASK_ALWAYS_EAGER, settings.EMAIL_BACKEND, settings.DEBUG, settings.EMAIL_PORT)"
    )
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": "statuspage.settings"},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_with_nothing_set_the_project_runs_embedded():
    result = load_settings()
    assert result.returncode == 0, result.stderr
    engine, cache, eager, email, debug, port = result.stdout.split()
    assert engine == "django.db.backends.sqlite3"
    assert cache.endswith("LocMemCache")
    assert eager == "True"
    assert email.endswith("console.EmailBackend")
    assert (debug, port) == ("False", "25")


def test_database_and_redis_urls_switch_on_the_real_services():
    result = load_settings(
        DATABASE_URL="postgres://u@db.internal:5432/status", REDIS_URL="redis://cache.internal:6379/0",
        SECRET_KEY="x" * 50, EMAIL_HOST="smtp.internal", EMAIL_PORT="2525",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    engine, cache, eager, email, _debug, port = result.stdout.split()
    assert engine == "django.db.backends.postgresql"
    assert cache == "incidents.public_cache.backend.ResilientRedisCache"
    assert eager == "False"
    assert email.endswith("smtp.EmailBackend")
    assert port == "2525"


def redis_locations(**env) -> list[str]:
    clean = {k: v for k, v in os.environ.items() if k not in CONTRACT_VARS}
    code = (
        "import django; from django.conf import settings; django.setup(); "
        "print(settings.CELERY_BROKER_URL, settings.CACHES['default']['LOCATION'])"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60,
        env={**clean, **env, "DJANGO_SETTINGS_MODULE": "statuspage.settings"},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return result.stdout.split()


def test_the_cache_and_the_broker_use_separate_redis_databases():
    assert redis_locations(REDIS_URL="redis://r:6379/0") == ["redis://r:6379/0", "redis://r:6379/1"]
    assert redis_locations(REDIS_URL="redis://:pw@r:6379") == ["redis://:pw@r:6379", "redis://:pw@r:6379/1"]
    assert redis_locations(REDIS_URL="redis://r:6379/2", CACHE_REDIS_URL="redis://c:6380/5") == [
        "redis://r:6379/2",
        "redis://c:6380/5",
    ]


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"DEBUG": "maybe"}, "DEBUG must be a boolean"),
        ({"EMAIL_PORT": "twenty-five"}, "EMAIL_PORT must be a whole number"),
        ({"EMAIL_PORT": "70000"}, "EMAIL_PORT must be at most 65535"),
        ({"EMAIL_USE_TLS": "perhaps"}, "EMAIL_USE_TLS must be a boolean"),
        ({"DATABASE_URL": "mysql://x@y/z", "SECRET_KEY": "k"}, "DATABASE_URL must be a URL starting with"),
        ({"DATABASE_URL": "postgres://", "SECRET_KEY": "k"}, "DATABASE_URL has no host"),
        ({"REDIS_URL": "localhost:6379"}, "REDIS_URL must be a URL starting with"),
        ({"REDIS_URL": "redis://r:6379/15"}, "Set CACHE_REDIS_URL"),
        ({"CACHE_REDIS_URL": "memcached://m"}, "CACHE_REDIS_URL must be a URL starting with"),
        ({"SITE_URL": "status.example.com"}, "SITE_URL must be a URL starting with"),
        ({"DATABASE_URL": "postgres://u@db:5432/s"}, "SECRET_KEY must be set when DATABASE_URL is set"),
    ],
)
def test_a_malformed_or_missing_value_stops_start_up_and_names_it(env, message):
    result = load_settings(**env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert message in result.stderr
