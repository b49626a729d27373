"""What bench/page.py builds and measures with: the page's data, requests, the nginx configuration."""

import http.client
import random
import re
import statistics
import time
from datetime import timedelta
from pathlib import Path

from bench.support import ROOT

COMPONENTS, GROUPS, INCIDENTS_PER_COMPONENT, DAYS = 100, 10, 5, 90
OUTAGES = ("degraded_performance", "partial_outage", "major_outage")


# -- the data ----------------------------------------------------------------------------------------------


def populate(components: int):
    """One page as a busy company has it: groups of components, a 90-day history, one open incident."""
    from django.utils import timezone

    from incidents import services
    from incidents.choices import ComponentStatus, IncidentStatus

    rng = random.Random(7)
    page = services.page_create(name="Bench Cloud", time_zone="Europe/Paris")
    now = timezone.now()
    start = (now - timedelta(days=DAYS + 30)).date()
    made = []
    for g in range(GROUPS):
        group = services.component_group_create(page=page, name=f"Region {g + 1}")
        for c in range(components // GROUPS):
            made.append(
                services.component_create(
                    page=page, group=group, name=f"Service {g + 1}.{c + 1}", showcase=True, start_date=start,
                    description=f"Service {c + 1} in region {g + 1}",
                )
            )  # fmt: skip
    moments = sorted(
        (now - timedelta(days=rng.uniform(1, DAYS - 1)), component)
        for component in made
        for _ in range(INCIDENTS_PER_COMPONENT)
    )
    for at, component in moments:
        outage = rng.choice(OUTAGES)
        incident = services.incident_create(
            page=page, name=f"{component.name} is unavailable for some customers", display_at=at,
            body="We are investigating **errors** for some customers.\n\n- requests time out\n- retries help",
            components={component: outage}, deliver_notifications=False,
        )  # fmt: skip
        services.incident_post_update(
            incident=incident, status=IncidentStatus.IDENTIFIED, display_at=at + timedelta(minutes=12),
            body="The cause is a faulty deploy; we are rolling it back.", deliver_notifications=False,
        )  # fmt: skip
        services.incident_post_update(
            incident=incident, status=IncidentStatus.RESOLVED,
            display_at=at + timedelta(minutes=rng.randint(25, 240)),
            body="This incident has been resolved.", components={component: ComponentStatus.OPERATIONAL},
            deliver_notifications=False,
        )  # fmt: skip
    open_incident = services.incident_create(
        page=page, name="Elevated error rates in Region 1", display_at=now - timedelta(minutes=25),
        body="We are investigating elevated error rates.",
        components={made[0]: ComponentStatus.MAJOR_OUTAGE, made[1]: ComponentStatus.PARTIAL_OUTAGE},
        deliver_notifications=False,
    )  # fmt: skip
    return page, open_incident, len(moments) + 1


# -- measuring ---------------------------------------------------------------------------------------------


def fetch(port: int, path: str, encoding: str | None = None) -> tuple[int, dict, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Accept-Encoding": encoding} if encoding else {"Accept-Encoding": "identity"}
    connection.request("GET", path, headers=headers)
    response = connection.getresponse()
    body = response.read()
    connection.close()
    return response.status, {k.lower(): v for k, v in response.getheaders()}, body


def element_count(html: bytes) -> int:
    from bs4 import BeautifulSoup

    return len(BeautifulSoup(html, "html.parser").find_all(True))


def cold_render_ms(page, path: str, repeat: int) -> float:
    """Median time of a request right after a write (the page's version moved), in this warm process."""
    from django.db import transaction
    from django.test import Client

    from incidents.services import page_changed

    client = Client(HTTP_ACCEPT_ENCODING="gzip", HTTP_HOST="127.0.0.1")
    for _ in range(3):
        client.get(path)  # warm the process: imports, templates, connections
    timings = []
    for _ in range(repeat):
        with transaction.atomic():
            page_changed(page.pk)
        started = time.perf_counter()
        response = client.get(path)
        timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (path, response.status_code)
    return statistics.median(timings)


def published_file(root: Path, path: str) -> Path | None:
    relative = path.lstrip("/")
    for candidate in (root / relative, root / relative / "index.html", root / f"{relative}.html"):
        if candidate.is_file():
            return candidate
    return None


NGINX_CONF = """
worker_processes 2;
pid {tmp}/nginx.pid;
error_log {tmp}/nginx-error.log;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  sendfile on; tcp_nopush on; keepalive_requests 100000;
  client_body_temp_path {tmp}/body; proxy_temp_path {tmp}/proxy; fastcgi_temp_path {tmp}/fastcgi;
  uwsgi_temp_path {tmp}/uwsgi; scgi_temp_path {tmp}/scgi;
  {site}
  server {{
    listen 127.0.0.1:{plain_port};
    root {plain};
    types {{ text/html html; application/json json; }}
    # Like with like: precompressed siblings served as they are, as deploy/nginx-static.conf does.
    gzip_static on; gzip on; gzip_types application/json; gzip_vary on;
  }}
}}
"""


def published_site(published: Path, port: int) -> str:
    """The project's own nginx site for the published copy (deploy/nginx-static.conf), on a bench port."""
    site = (ROOT / "deploy" / "nginx-static.conf").read_text()
    site = re.sub(r"listen\s+80;", f"listen 127.0.0.1:{port};", site)
    return re.sub(r"root\s+/srv/status;", f"root {published};", site)
