"""The published copy served by nginx with deploy/nginx-static.conf, and published to an S3 bucket.

The nginx test never starts the app: nginx reads the files alone, which is what keeps the page up when
the app, PostgreSQL and Redis are all stopped.
"""

import json
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import SimpleNamespace

import pytest
import time_machine
from django.conf import settings as django_settings
from django.core.management import call_command

from incidents import services
from incidents.management.demo_data import BEACONLY, CHIRPDESK
from incidents.models import Incident
from incidents.publishing.run import publish_all
from incidents.publishing.target import FileTarget
from tests.conftest import skip_or_fail
from tests.publishing_helpers import NOW, PNG, build_site, expected_files, own_cache

NGINX = "/usr/sbin/nginx"
SITE_CONFIG = Path(__file__).resolve().parent.parent / "deploy" / "nginx-static.conf"


@pytest.fixture
def served_root():
    """A directory nginx's unprivileged worker may enter (pytest's tmp_path is private to its user)."""
    parent = Path(tempfile.mkdtemp(prefix="statuspage-publish-"))
    parent.chmod(0o755)
    yield parent / "site"
    shutil.rmtree(parent, ignore_errors=True)


@pytest.fixture
def site(db, settings, served_root):
    settings.PUBLISH_TARGET = None
    own_cache(settings)
    with time_machine.travel(NOW, tick=False):
        pages = build_site()
        settings.PUBLISH_TARGET = f"file://{served_root}"
        yield SimpleNamespace(pages=pages, root=served_root, default=pages[CHIRPDESK], other=pages[BEACONLY])


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def nginx(tmp_path, served_root):
    """Debian's nginx serving `served_root` with the project's site config, on a free port.

    Its worker runs as an unprivileged user (nobody), so this also checks the published files are readable.
    """
    if not Path(NGINX).exists():
        skip_or_fail(f"needs Debian's nginx at {NGINX} (apt-get install nginx-light)")
    port = free_port()
    run = tmp_path / "nginx"
    run.mkdir()
    site_config = SITE_CONFIG.read_text()
    assert "listen 80;" in site_config
    assert "root /srv/status;" in site_config
    site_config = site_config.replace("listen 80;", f"listen 127.0.0.1:{port};")
    site_config = site_config.replace("root /srv/status;", f"root {served_root};")
    (run / "site.conf").write_text(site_config)
    temps = " ".join(f"{name}_temp_path {run / name};" for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    (run / "nginx.conf").write_text(
        f"daemon off; worker_processes 1; pid {run / 'nginx.pid'}; error_log {run / 'error.log'};\n"
        f"events {{ worker_connections 64; }}\n"
        f"http {{ access_log off; {temps} include {run / 'site.conf'}; }}\n"
    )
    process = subprocess.Popen([NGINX, "-c", str(run / "nginx.conf"), "-p", str(run)], stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            if process.poll() is not None:
                pytest.fail(f"nginx did not start: {process.stderr.read().decode()}")
            time.sleep(0.05)
    yield base
    process.terminate()
    process.wait(10)


def fetch(url: str, method: str = "GET"):
    request = urllib.request.Request(url, method=method)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310 - our own local nginx
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def test_nginx_serves_the_published_copy_with_clean_urls_types_cors_and_cache_headers(site, nginx):
    call_command("publish")
    incident = Incident.objects.filter(page=site.other).order_by("id").first()
    # From here on the requests go to nginx alone: no app server was ever started for it.
    # clean URLs: a directory's index.html, with and without a trailing slash
    for path in ("/", "/history", "/history/", f"/p/{BEACONLY}/", f"/p/{BEACONLY}/history/page/2", "/uptime"):
        status, headers, body = fetch(nginx + path)
        assert status == 200, path
        assert headers["Content-Type"] == "text/html; charset=utf-8", path
        assert headers["Cache-Control"] == "public, max-age=0, must-revalidate"
        assert body.rstrip().endswith(b"</html>")
    status, _, body = fetch(f"{nginx}/p/{BEACONLY}/incidents/{incident.code}")
    assert status == 200
    assert body == (site.root / "p" / BEACONLY / "incidents" / incident.code / "index.html").read_bytes()
    # the API files: JSON, open to every origin, briefly cacheable; a preflight is answered
    for path in ("/api/v2/summary.json", f"/p/{BEACONLY}/api/v2/incidents/{incident.code}.json"):
        status, headers, body = fetch(nginx + path)
        assert status == 200, path
        assert headers["Content-Type"].startswith("application/json")
        assert headers["Access-Control-Allow-Origin"] == "*"
        assert headers["Cache-Control"] == "public, max-age=10"
        assert json.loads(body)["page"]["id"] in (CHIRPDESK, BEACONLY)
    status, headers, _ = fetch(nginx + "/api/v2/status.json", method="OPTIONS")
    assert status == 204
    assert headers["Access-Control-Allow-Origin"] == "*"
    # feeds, calendar, stylesheet, logo
    for path, kind in (
        ("/history.atom", "application/atom+xml"),
        (f"/p/{BEACONLY}/history.rss", "application/rss+xml"),
        ("/maintenance.ics", "text/calendar"),
        ("/static/css/status.css", "text/css"),
        (f"/p/{BEACONLY}/logo", "image/png"),
        ("/badge.svg", "image/svg+xml"),
        (f"/p/{BEACONLY}/badge/uptime-30.json", "application/json"),
        ("/widget.js", "application/javascript"),
        (f"/p/{BEACONLY}/embed", "text/html"),
    ):
        status, headers, body = fetch(nginx + path)
        assert status == 200, path
        assert headers["Content-Type"].split(";")[0] == kind, path
    assert fetch(f"{nginx}/p/{BEACONLY}/logo")[2] == PNG
    # a client that accepts gzip gets the precompressed sibling as it is
    request = urllib.request.Request(nginx + "/", headers={"Accept-Encoding": "gzip"})
    with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310 - our own local nginx
        assert response.headers["Content-Encoding"] == "gzip"
        assert response.read() == (site.root / "index.html.gz").read_bytes()
    # what is not published is not found, and a publisher's temporary files are never served
    assert fetch(nginx + "/incidents/nosuchincident")[0] == 404
    (site.root / ".publishing-abc").write_bytes(b"half")
    assert fetch(nginx + "/.publishing-abc")[0] == 404


def test_nginx_serves_every_published_address_as_the_app_did(site, nginx, client):
    call_command("publish")
    for page in site.pages.values():
        for file, url in expected_files(page).items():
            status, _, body = fetch(nginx + url)
            assert status == 200, url
            assert body == (site.root / file).read_bytes(), url


def test_a_change_reaches_nginx_without_restarting_it(site, nginx, django_capture_on_commit_callbacks):
    call_command("publish")
    incident = Incident.objects.get(page=site.other, name="Dashboard exports are slow")
    with django_capture_on_commit_callbacks(execute=True):
        services.incident_post_update(incident=incident, body="Exports are fast again.", status="resolved")
    status, _, body = fetch(f"{nginx}/p/{BEACONLY}/incidents/{incident.code}")
    assert status == 200
    assert b"Exports are fast again." in body
    summary = json.loads(fetch(f"{nginx}/p/{BEACONLY}/api/v2/summary.json")[2])
    assert incident.code not in [i["id"] for i in summary["incidents"]]  # no longer unresolved


def test_nginx_maps_clean_urls_without_a_lookup_and_never_serves_a_replaced_file_stale(site, nginx):
    """The site config maps an address to its file by a rewrite (no try_files) and keeps files open between
    requests (open_file_cache, checked on every request): a file the publisher replaces is served from the
    very next request, a file it removes is gone at once, and what is not a published file is a 404."""
    call_command("publish")
    target = FileTarget(str(site.root))
    # with and without the trailing slash, at any depth; a directory holding no index.html is a 404, not a redirect
    for path in (f"/p/{BEACONLY}", f"/p/{BEACONLY}/history/page/2/", "/embed/"):
        assert fetch(nginx + path)[0] == 200, path
    for path in ("/api/v2/incidents", "/api/v2/incidents/", "/api/v2", "/static", "/history.atom/"):
        assert fetch(nginx + path)[0] == 404, path
    # nginx holds the page and its gzip sibling open; each replacement is seen by the next request, many times over
    gzip = {"Accept-Encoding": "gzip"}
    for round_ in range(3):
        assert fetch(nginx + "/")[0] == 200
        with urllib.request.urlopen(urllib.request.Request(nginx + "/", headers=gzip), timeout=5) as response:  # noqa: S310
            assert response.headers["Content-Encoding"] == "gzip"
        page = f"<!doctype html><title>round {round_}</title>{'x' * 400}</html>".encode()
        assert target.write("index.html", page, "text/html; charset=utf-8")
        assert fetch(nginx + "/")[2] == page
        with urllib.request.urlopen(urllib.request.Request(nginx + "/", headers=gzip), timeout=5) as response:  # noqa: S310
            assert response.read() == (site.root / "index.html.gz").read_bytes()
        summary = json.dumps({"round": round_}).encode()
        target.write("api/v2/summary.json", summary, "application/json")
        status, headers, body = fetch(nginx + "/api/v2/summary.json")
        assert (status, body, headers["Access-Control-Allow-Origin"]) == (200, summary, "*")
    # a removed file is gone from the next request, a new one is there from the next request
    incident = Incident.objects.filter(page=site.default).order_by("id").first()
    assert fetch(f"{nginx}/incidents/{incident.code}")[0] == 200
    target.delete(f"incidents/{incident.code}/index.html")
    assert fetch(f"{nginx}/incidents/{incident.code}")[0] == 404
    target.write(f"incidents/{incident.code}/index.html", b"<html>back</html>", "text/html; charset=utf-8")
    assert fetch(f"{nginx}/incidents/{incident.code}")[2] == b"<html>back</html>"


# -- an S3-compatible bucket, faked in-process by moto ---------------------------------------------------


@pytest.fixture
def bucket(monkeypatch):
    moto = pytest.importorskip("moto")
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    with moto.mock_aws():
        import boto3

        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket="status-copy")
        yield client


def _objects(client, prefix="site/") -> dict[str, dict]:
    listing = client.list_objects_v2(Bucket="status-copy", Prefix=prefix).get("Contents", [])
    objects = {item["Key"][len(prefix) :]: item for item in listing}
    return {key: item for key, item in objects.items() if not key.startswith(".publish-state/")}


def test_publishing_to_a_bucket_stores_every_file_with_its_type_and_removes_what_is_gone(
    site, settings, bucket, django_capture_on_commit_callbacks
):
    settings.PUBLISH_TARGET = "s3://status-copy/site"
    call_command("publish")
    stored = _objects(bucket)
    for page in site.pages.values():
        assert set(expected_files(page)) <= set(stored)
    head = bucket.head_object(Bucket="status-copy", Key="site/api/v2/summary.json")
    assert head["ContentType"] == "application/json"
    assert head["CacheControl"] == "public, max-age=10"
    head = bucket.head_object(Bucket="status-copy", Key="site/history.atom")
    assert head["ContentType"].startswith("application/atom+xml")
    assert bucket.head_object(Bucket="status-copy", Key="site/index.html")["ContentType"].startswith("text/html")
    assert bucket.head_object(Bucket="status-copy", Key=f"site/p/{BEACONLY}/logo")["ContentType"] == "image/png"
    # a republish with nothing changed writes nothing (the bucket's MD5s are compared)
    modified = {key: item["LastModified"] for key, item in stored.items()}

    again = publish_all(full=True)
    assert again.written == []
    assets = [key for key in modified if key.startswith("static/")]  # compared once per run, not counted
    assert again.unchanged == len(modified) - len(assets)
    # a deleted incident disappears from the bucket
    gone = Incident.objects.filter(page=site.default).order_by("id").first()
    with django_capture_on_commit_callbacks(execute=True):
        services.incident_delete(incident=gone)
    stored = _objects(bucket)
    assert f"incidents/{gone.code}/index.html" not in stored
    assert f"api/v2/incidents/{gone.code}.json" not in stored
    assert f"p/{CHIRPDESK}/incidents/{gone.code}/index.html" not in stored
    assert f"fr/p/{CHIRPDESK}/incidents/{gone.code}/index.html" not in stored  # and in every language
    # root and /p/<id>/: its page and its JSON; in each language its page at both
    assert len(modified) - len(stored) == 4 + 2 * len(django_settings.LANGUAGES)
