"""Production settings: `check --deploy` is clean, and each security, proxy and error-reporting setting does
what the README says (each read in a fresh interpreter, as start-up reads the environment)."""

import json
import secrets

import pytest

from tests.test_settings import ROOT, load_settings

SECURITY_VARS = (
    "SECURE_SSL_REDIRECT SECURE_HSTS_SECONDS SECURE_HSTS_INCLUDE_SUBDOMAINS SECURE_HSTS_PRELOAD "
    "TRUST_X_FORWARDED_PROTO TRUSTED_PROXY_HOPS CLIENT_IP_HEADER ADMINS SERVER_EMAIL"
).split() + ["DJANGO_ALLOW_ASYNC_UNSAFE"]  # set by the browser fixture for this process; deploy check refuses it
PRODUCTION = {
    "DEBUG": "0",
    "SECRET_KEY": secrets.token_urlsafe(64),
    "SITE_URL": "https://status.example.com",
    "ALLOWED_HOSTS": "status.example.com",
    "DATABASE_URL": "postgres://status@db.internal:5432/status",  # never reached: checks only
    "REDIS_URL": "redis://redis.internal:6379/0",
}
SECURITY = (
    "import json; print(json.dumps({name: getattr(settings, name, None) for name in ["
    "'SECURE_SSL_REDIRECT', 'SECURE_HSTS_SECONDS', 'SECURE_HSTS_INCLUDE_SUBDOMAINS', 'SECURE_HSTS_PRELOAD', "
    "'SECURE_PROXY_SSL_HEADER', 'SESSION_COOKIE_SECURE', 'CSRF_COOKIE_SECURE', 'TRUSTED_PROXY_HOPS', 'ADMINS', "
    "'SERVER_EMAIL', 'SILENCED_SYSTEM_CHECKS']}))"
)


def run(code: str, **env):
    """`code` after django.setup() with exactly these variables set (none of the security ones inherited)."""
    env = {**dict.fromkeys(SECURITY_VARS, None), **env}
    import os

    saved = {name: os.environ.pop(name) for name in SECURITY_VARS if name in os.environ}
    try:
        return load_settings(code, **{k: v for k, v in env.items() if v is not None})
    finally:
        os.environ.update(saved)


def security(**env) -> dict:
    result = run(SECURITY, **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


DEPLOY_CHECK = (
    "from django.core.management import call_command; "
    "call_command('check', deploy=True, fail_level='DEBUG'); print('clean')"
)


def test_check_deploy_reports_nothing_with_production_variables():
    result = run(DEPLOY_CHECK, **PRODUCTION)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip().splitlines()[-1] == "clean"
    assert "issue" not in result.stderr


def test_check_deploy_still_names_what_an_operator_turned_off():
    result = run(DEPLOY_CHECK, **PRODUCTION, SECURE_SSL_REDIRECT="0", SECURE_HSTS_SECONDS="0")
    assert result.returncode != 0
    assert "security.W004" in result.stderr  # HSTS
    assert "security.W008" in result.stderr  # SSL redirect


def test_an_https_site_url_turns_on_hsts_the_redirect_and_secure_cookies():
    values = security(**PRODUCTION)
    assert values["SECURE_SSL_REDIRECT"] is True
    assert values["SECURE_HSTS_SECONDS"] == 31536000
    assert values["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True
    assert values["SECURE_HSTS_PRELOAD"] is False  # the domain owner's decision, never a default
    assert values["SILENCED_SYSTEM_CHECKS"] == ["security.W021"]
    assert (values["SESSION_COOKIE_SECURE"], values["CSRF_COOKIE_SECURE"]) == (True, True)


def test_an_http_site_url_keeps_plain_http_working():
    values = security(SITE_URL="http://127.0.0.1:8000")
    assert values["SECURE_SSL_REDIRECT"] is False
    assert values["SECURE_HSTS_SECONDS"] == 0
    assert (values["SESSION_COOKIE_SECURE"], values["CSRF_COOKIE_SECURE"]) == (False, False)


def test_each_https_setting_can_be_set_on_its_own():
    values = security(
        **PRODUCTION, SECURE_SSL_REDIRECT="false", SECURE_HSTS_SECONDS="3600", SECURE_HSTS_INCLUDE_SUBDOMAINS="no",
        SECURE_HSTS_PRELOAD="yes",
    )  # fmt: skip
    assert values["SECURE_SSL_REDIRECT"] is False
    assert values["SECURE_HSTS_SECONDS"] == 3600
    assert values["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is False
    assert values["SECURE_HSTS_PRELOAD"] is True
    assert values["SILENCED_SYSTEM_CHECKS"] == []  # with preload on, nothing is silenced


def test_x_forwarded_proto_is_trusted_only_when_switched_on_not_by_an_https_site_url():
    assert security(**PRODUCTION)["SECURE_PROXY_SSL_HEADER"] is None
    trusted = security(**PRODUCTION, TRUST_X_FORWARDED_PROTO="1")
    assert trusted["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]


def test_admins_come_from_the_environment():
    values = security(ADMINS="Ops Team <ops@example.com>, dev@example.com", SERVER_EMAIL="errors@example.com")
    assert values["ADMINS"] == [["Ops Team", "ops@example.com"], ["dev@example.com", "dev@example.com"]]
    assert values["SERVER_EMAIL"] == "errors@example.com"
    assert security()["ADMINS"] == []


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"ADMINS": "ops@example.com, not an address"}, "ADMINS must be email addresses"),
        ({"SECURE_HSTS_SECONDS": "a year"}, "SECURE_HSTS_SECONDS must be a whole number"),
        ({"SECURE_SSL_REDIRECT": "sometimes"}, "SECURE_SSL_REDIRECT must be a boolean"),
        ({"TRUST_X_FORWARDED_PROTO": "maybe"}, "TRUST_X_FORWARDED_PROTO must be a boolean"),
        ({"TRUSTED_PROXY_HOPS": "-1"}, "TRUSTED_PROXY_HOPS must be at least 0"),
    ],
)
def test_a_malformed_security_value_stops_start_up_and_names_it(env, message):
    result = run("print('started')", **env)
    assert result.returncode != 0
    assert message in result.stderr


def test_the_test_run_stops_a_hung_test_and_lists_the_slowest(tmp_path):
    """pyproject.toml: a per-test timeout (pytest-timeout) and --durations, so CI never waits on a hung test."""
    import subprocess
    import sys

    hung = tmp_path / "test_hung.py"
    hung.write_text(
        "import time\n\nimport pytest\n\n\n@pytest.mark.timeout(2)\ndef test_hangs():\n    time.sleep(60)\n\n\n"
        "def test_default(request):\n    assert request.config.getini('timeout') == '300'\n"
    )
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-c", str(ROOT / "pyproject.toml"), "--rootdir", str(ROOT),
         "-p", "no:cacheprovider", str(hung)],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert "1 failed, 1 passed" in result.stdout, result.stdout[-3000:] + result.stderr[-2000:]
    assert "Timeout (>2.0s)" in result.stdout
    assert "slowest 20 durations" in result.stdout
