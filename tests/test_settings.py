"""Settings come from the environment; a malformed value stops start-up with a message naming it."""

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from statuspage import embedded
from statuspage.embedded import site_environment

ROOT = Path(__file__).resolve().parent.parent
CONTRACT_VARS = (
    "SECRET_KEY DEBUG ALLOWED_HOSTS SITE_URL DATABASE_URL REDIS_URL EMAIL_HOST EMAIL_PORT EMAIL_HOST_USER "
    "EMAIL_HOST_PASSWORD EMAIL_USE_TLS DEFAULT_FROM_EMAIL EMAIL_BACKEND CACHE_REDIS_URL"
).split()


SUMMARY = (
    "print(settings.DATABASES['default']['ENGINE'], settings.CACHES['default']['BACKEND'], "
    "settings.CELERY_TASK_ALWAYS_EAGER, settings.EMAIL_BACKEND, settings.DEBUG, settings.EMAIL_PORT)"
)


def load_settings(code: str = SUMMARY, **env) -> subprocess.CompletedProcess:
    """Import the settings in a fresh interpreter with exactly these contract variables set, then run `code`."""
    clean = {k: v for k, v in os.environ.items() if k not in CONTRACT_VARS and k != "EMBEDDED_DIR"}
    clean.update(env)
    code = "import django; from django.conf import settings; django.setup(); " + code
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
    assert eager == "False"  # a real worker and beat (make run) on the embedded broker
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


def test_without_redis_the_broker_is_embedded_and_sqlite_waits_for_its_turn_to_write(tmp_path):
    code = (
        "import json; from django.db import connection; "
        "print(json.dumps([settings.CELERY_BROKER_URL, settings.CELERY_BROKER_TRANSPORT_OPTIONS, "
        "settings.DATABASES['default']['OPTIONS'], "
        "connection.cursor().execute('PRAGMA journal_mode').fetchone()[0], settings.CELERY_BEAT_SCHEDULE]))"
    )
    embedded = tmp_path / "var"
    result = load_settings(
        code,
        EMBEDDED_DIR=str(embedded),
        BEAT_INTERVAL="2",
        DATABASE_URL=f"sqlite:///{tmp_path}/db.sqlite3",
        SECRET_KEY="x",
    )
    assert result.returncode == 0, result.stderr
    broker, options, sqlite, journal, schedule = json.loads(result.stdout.splitlines()[-1])
    assert broker == "filesystem://"
    assert options["data_folder_in"] == options["data_folder_out"] == str(embedded / "broker")
    assert options["control_folder"] == str(embedded / "broker-control")
    assert (embedded / "broker").is_dir()
    assert sqlite["transaction_mode"] == "IMMEDIATE"
    assert sqlite["timeout"] >= 10
    assert journal == "wal"
    assert {entry["schedule"] for entry in schedule.values()} == {2.0}


def test_the_site_answers_at_site_urls_host_by_default():
    code = "print(','.join(settings.ALLOWED_HOSTS))"
    result = load_settings(code, SITE_URL="https://status.example.com")
    assert result.returncode == 0, result.stderr
    assert "status.example.com" in result.stdout.strip().split(",")
    # An explicit list that covers it, by name or by domain, is kept as given.
    result = load_settings(code, SITE_URL="https://status.example.com", ALLOWED_HOSTS=".example.com")
    assert (result.returncode, result.stdout.strip()) == (0, ".example.com")


@pytest.mark.parametrize(
    ("site_url", "allowed_hosts"),
    [("https://status.example.com", "localhost,example.com"), ("http://[::1]:8000", "127.0.0.1")],
)
def test_a_site_url_that_allowed_hosts_refuses_stops_start_up_naming_both(site_url, allowed_hosts):
    result = load_settings(SITE_URL=site_url, ALLOWED_HOSTS=allowed_hosts)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "SITE_URL's host" in result.stderr
    assert "is not in ALLOWED_HOSTS" in result.stderr


# -- make run: links follow HOST and PORT (statuspage/embedded.py) -------------------------------------------


def test_under_make_run_site_url_follows_the_port():
    env = site_environment({}, "127.0.0.1", 8765)
    assert env["SITE_URL"] == "http://127.0.0.1:8765"
    assert "ALLOWED_HOSTS" not in env  # the default allows SITE_URL's host
    assert site_environment({}, "::1", 8080)["SITE_URL"] == "http://[::1]:8080"


def test_a_site_url_or_allowed_hosts_that_is_set_wins():
    env = site_environment(
        {"SITE_URL": "https://status.example.com", "ALLOWED_HOSTS": "status.example.com"}, "0.0.0.0", 8765
    )
    assert env["SITE_URL"] == "https://status.example.com"
    assert env["ALLOWED_HOSTS"] == "status.example.com"


def test_served_on_every_interface_links_name_the_machine_and_any_host_name_is_answered():
    env = site_environment({}, "0.0.0.0", 8000)
    assert env["SITE_URL"] == f"http://{embedded.link_host('0.0.0.0')}:8000"
    assert "0.0.0.0" not in env["SITE_URL"]
    assert env["ALLOWED_HOSTS"] == "*"
    # Django's own host check (what answers 400 Bad Request), with the settings make run gives the processes.
    code = (
        "from django.test import RequestFactory; "
        "print([RequestFactory().get('/', HTTP_HOST=h).get_host() for h in ('192.168.1.20:8000', 'status.lan:8000')])"
    )
    result = load_settings(code, SITE_URL=env["SITE_URL"], ALLOWED_HOSTS=env["ALLOWED_HOSTS"])
    assert result.returncode == 0, result.stderr
    assert "status.lan:8000" in result.stdout
    # Bound to one address, only the usual names and that address are answered.
    env = site_environment({}, "127.0.0.1", 8000)
    result = load_settings(code, SITE_URL=env["SITE_URL"])
    assert "DisallowedHost" in result.stderr


def test_make_run_starts_the_supervisor_with_host_and_port():
    result = subprocess.run(
        ["make", "-n", "run", "HOST=0.0.0.0", "PORT=8765"], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert "-m statuspage.embedded --host 0.0.0.0 --port 8765" in result.stdout


@pytest.mark.timeout(600)  # `make test` runs check and lint before collecting (up to 300 s)
def test_make_test_brings_its_own_secret_when_database_url_is_set():
    """`make test` on PostgreSQL: manage.py check and pytest start without SECRET_KEY in the environment."""
    venv_bin = Path(sys.executable).parent
    env = {k: v for k, v in os.environ.items() if k not in CONTRACT_VARS}
    env["DATABASE_URL"] = "postgres://nobody@127.0.0.1:1/nothing"  # never reached: check and collection only
    result = subprocess.run(
        ["make", "-o", f"{venv_bin}/.installed", "test", f"BIN={venv_bin}", "PYTEST_WORKERS=0",
         "PYTEST_ARGS=--collect-only -q -p no:cacheprovider tests/test_settings.py"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert "SECRET_KEY must be set" not in result.stderr
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert "tests collected" in result.stdout


@pytest.mark.parametrize(
    ("addresses", "expected"),
    [
        ({"status-host.lan": "192.168.1.20", "status-host": "192.168.1.20"}, "status-host.lan"),  # a real name
        ({"status-host.lan": "127.0.1.1", "status-host": "127.0.1.1"}, "192.168.1.20"),  # /etc/hosts: loopback
        ({"status-host.lan": None, "status-host": None}, "192.168.1.20"),  # does not resolve
    ],
)
def test_on_every_interface_links_use_the_machines_name_only_if_it_leads_here(monkeypatch, addresses, expected):
    def getaddrinfo(name, port):
        if addresses.get(name) is None:
            raise socket.gaierror("unknown")
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (addresses[name], 0))]

    monkeypatch.setattr(socket, "getfqdn", lambda: "status-host.lan")
    monkeypatch.setattr(socket, "gethostname", lambda: "status-host")
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(embedded, "primary_address", lambda: "192.168.1.20")
    assert embedded.link_host("0.0.0.0") == expected
    assert embedded.link_host("::") == expected
