"""`make run` without any service: the web server, a real Celery worker and beat on the embedded filesystem
broker, against a file SQLite database, all started by statuspage/embedded.py (what `make run` runs).

Links follow the port it serves on; scheduled work (a maintenance's automatic window) runs; a write through
the manage API never meets "database is locked" while the worker writes; Ctrl-C stops all three processes.
The processes run in their own session and are killed at the end whatever happens; every wait is bounded.
"""

import contextlib
import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SUBSCRIBERS = 400
# The first test also starts the run (migrate up to 240 s, start-up up to 120 s) in its module fixture.
pytestmark = pytest.mark.timeout(900)
SETUP = f"""
import json, django
django.setup()
from io import StringIO
from django.contrib.auth.models import User
from django.core.management import call_command
from django.utils import timezone
from incidents import services
from notifications.models import Subscriber, SubscriberState
page = services.page_create(name="Embedded Co", time_zone="UTC")
component = services.component_create(page=page, name="API")
User.objects.create_superuser("boss", "boss@example.com", "pw-not-used-here")
out = StringIO()
call_command("create_api_key", "boss", stdout=out)
Subscriber.objects.bulk_create(
    Subscriber(page=page, email=f"reader{{i}}@example.com", state=SubscriberState.CONFIRMED, confirmed_at=timezone.now())
    for i in range({SUBSCRIBERS})
)
print(json.dumps({{"page": page.code, "component": component.code, "key": out.getvalue().strip()}}))
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, IndexError):
        return False


def group_members(pgids: set[int]) -> list[int]:
    """Live processes (not zombies) in these process groups: the children and their own children."""
    members = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except (FileNotFoundError, IndexError, ProcessLookupError):
                continue
            if fields[0] != "Z" and int(fields[2]) in pgids:
                members.append(int(entry.name))
    return members


class Embedded:
    def __init__(self, base: Path):
        self.base = base
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.db = base / "db.sqlite3"
        self.log = base / "run.log"
        self.env = {
            k: v
            for k, v in os.environ.items()
            if k not in {"DATABASE_URL", "REDIS_URL", "SITE_URL", "ALLOWED_HOSTS", "TEST_DATABASE_NAME", "EMAIL_HOST"}
        }
        self.env.update(
            DATABASE_URL=f"sqlite:///{self.db}", SECRET_KEY="embedded-test", EMBEDDED_DIR=str(base / "var"),
            # Sending paced at 40 emails a second: the 400 deliveries take ten seconds, so edits meet them.
            BEAT_INTERVAL="1", NOTIFICATIONS_RATE_LIMIT="40", DJANGO_SETTINGS_MODULE="statuspage.settings",
            EMAIL_BACKEND="django.core.mail.backends.console.EmailBackend", PYTHONUNBUFFERED="1",
        )  # fmt: skip
        self.proc = None
        self.children: dict[str, int] = {}

    def manage(self, *args, timeout=240) -> str:
        result = subprocess.run(
            [sys.executable, *args], cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=timeout
        )
        assert result.returncode == 0, result.stderr[-3000:]
        return result.stdout

    def start(self):
        self.manage("manage.py", "migrate", "--noinput")
        self.ids = json.loads(self.manage("-c", SETUP).strip().splitlines()[-1])
        with self.log.open("w") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "statuspage.embedded", "--host", "127.0.0.1", "--port", str(self.port), "--noreload"],
                cwd=ROOT, env=self.env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            match = re.search(r"web pid (\d+), worker pid (\d+), beat pid (\d+)", self.log.read_text())
            if match and not self.children:
                self.children = dict(zip(("web", "worker", "beat"), map(int, match.groups()), strict=True))
            ready = "ready." in self.log.read_text()  # the worker's banner line
            if self.children and ready and self.request("GET", "/api/v2/status.json")[0] == 200:
                return
            assert self.proc.poll() is None, self.log.read_text()[-3000:]
            time.sleep(0.5)
        raise AssertionError("the embedded run did not come up in 120 s:\n" + self.log.read_text()[-3000:])

    def request(self, method, path, body=None, *, key=False, timeout=30):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.url + path, data=data, method=method)
        if body is not None:
            req.add_header("Content-Type", "application/json")
        if key:
            req.add_header("Authorization", f"OAuth {self.ids['key']}")
        try:
            with urllib.request.urlopen(req, timeout=timeout) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()
        except OSError as exc:
            return 0, str(exc)

    def query(self, sql, *params):
        with sqlite3.connect(f"file:{self.db}?mode=ro", uri=True, timeout=20) as conn:
            return conn.execute(sql, params).fetchall()

    def kill(self):
        """Whatever state the run is in: nothing of it survives the test."""
        for pid in [self.proc.pid, *self.children.values()] if self.proc else []:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)
        if self.proc:
            self.proc.wait(timeout=30)


@pytest.fixture(scope="module")
def embedded(tmp_path_factory):
    run = Embedded(tmp_path_factory.mktemp("embedded"))
    try:
        run.start()
        yield run
    finally:
        run.kill()


def api_path(run, suffix=""):
    return f"/api/v1/pages/{run.ids['page']}/incidents{suffix}"


def test_links_in_the_api_feeds_calendar_and_emails_follow_the_port(embedded):
    base = f"http://127.0.0.1:{embedded.port}/"
    status, body = embedded.request("GET", "/api/v2/summary.json")
    assert status == 200
    assert json.loads(body)["page"]["url"] == base
    status, body = embedded.request(
        "POST",
        api_path(embedded),
        {
            "incident": {
                "name": "Slow API",
                "status": "investigating",
                "body": "Looking.",
                "deliver_notifications": False,
            }
        },
        key=True,
    )
    assert status == 201, body
    assert json.loads(body)["shortlink"].startswith(base + "incidents/")
    assert f'href="{base}incidents/' in embedded.request("GET", "/history.atom")[1]
    when = (datetime.now(UTC) + timedelta(days=2)).replace(microsecond=0)
    maintenance = {"incident": {"name": "Planned", "status": "scheduled", "body": "Upgrade.", "deliver_notifications": False,
                   "scheduled_for": when.isoformat(), "scheduled_until": (when + timedelta(hours=1)).isoformat()}}  # fmt: skip
    assert embedded.request("POST", api_path(embedded), maintenance, key=True)[0] == 201
    assert f"URL:{base}incidents/" in embedded.request("GET", "/maintenance.ics")[1].replace("\r\n ", "")

    # A new subscriber's confirmation email, sent by the worker, printed on the console.
    request = urllib.request.Request(embedded.url + "/subscribe", data=b"email=new.reader%40example.com&scope=all")
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 200
    deadline = time.monotonic() + 60
    while "new.reader@example.com" not in embedded.log.read_text() and time.monotonic() < deadline:
        time.sleep(0.5)
    confirm = re.search(r"Confirm: (\S+)", embedded.log.read_text())
    assert confirm, embedded.log.read_text()[-3000:]
    assert confirm.group(1).startswith(base + "subscriptions/confirm/")


def test_beat_and_the_worker_move_a_maintenance_through_its_automatic_window(embedded):
    start = datetime.now(UTC) + timedelta(seconds=5)
    body = {"incident": {
        "name": "Database upgrade", "status": "scheduled", "body": "We upgrade the database.",
        "scheduled_for": start.isoformat(), "scheduled_until": (start + timedelta(seconds=15)).isoformat(),
        "scheduled_auto_in_progress": True, "scheduled_auto_completed": True, "deliver_notifications": False,
        "components": {embedded.ids["component"]: "operational"},
    }}  # fmt: skip
    status, answer = embedded.request("POST", api_path(embedded), body, key=True)
    assert status == 201, answer
    code = json.loads(answer)["id"]
    seen, deadline = [], time.monotonic() + 90
    while time.monotonic() < deadline:
        row = embedded.query(
            "SELECT i.status, c.status FROM incidents_incident i, incidents_component c WHERE i.code = ? AND c.code = ?",
            code, embedded.ids["component"],
        )  # fmt: skip
        if not seen or seen[-1] != row[0]:
            seen.append(row[0])
        if row[0][0] == "completed":
            break
        time.sleep(0.2)
    assert seen[0] == ("scheduled", "operational")
    assert ("in_progress", "under_maintenance") in seen, seen
    assert seen[-1] == ("completed", "operational"), seen
    updates = json.loads(embedded.request("GET", f"/api/v2/incidents/{code}.json")[1])["incident"]["incident_updates"]
    assert [u["status"] for u in updates] == ["completed", "in_progress", "scheduled"]


def sent_count(run, code) -> int:
    return run.query(
        "SELECT count(*) FROM notifications_delivery d JOIN notifications_notification n ON n.id = d.notification_id "
        "JOIN incidents_incidentupdate u ON u.id = n.update_id JOIN incidents_incident i ON i.id = u.incident_id "
        "WHERE i.code = ? AND d.status = 'sent'",
        code,
    )[0][0]


def wait_for(condition, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.3)
    return True


def test_no_write_meets_database_is_locked_while_the_worker_writes(embedded):
    """While the worker records hundreds of deliveries (one write each), the manage API posts updates."""
    status, answer = embedded.request(
        "POST", api_path(embedded),
        {"incident": {"name": "Queue backlog", "status": "investigating", "body": "Looking.", "deliver_notifications": True}},
        key=True,
    )  # fmt: skip
    assert status == 201, answer
    code = json.loads(answer)["id"]
    assert wait_for(lambda: sent_count(embedded, code) > 0, 120), "the worker sent nothing"
    answers, stop = [], threading.Event()

    def edit(n):
        while not stop.is_set():
            body = {"incident": {"status": "identified", "body": f"Edit {n}.{len(answers)}", "deliver_notifications": False,
                                 "components": {embedded.ids["component"]: ["degraded_performance", "operational"][len(answers) % 2]}}}  # fmt: skip
            answers.append(
                (embedded.request("PATCH", api_path(embedded, f"/{code}"), body, key=True), sent_count(embedded, code))
            )
            stop.wait(0.2)  # a busy responder team, not a flood

    editors = [threading.Thread(target=edit, args=(n,)) for n in range(2)]
    for thread in editors:
        thread.start()
    try:
        wait_for(lambda: len(answers) >= 16 or sent_count(embedded, code) >= SUBSCRIBERS, 90)
    finally:
        stop.set()
        for thread in editors:
            thread.join(timeout=60)
    failed = [answer for answer, _ in answers if answer[0] != 200]
    assert not failed, failed[:3]
    # Edits that were answered while the worker was still sending: the writes really met.
    assert len([sent for _, sent in answers if sent < SUBSCRIBERS]) >= 3
    assert wait_for(lambda: sent_count(embedded, code) >= SUBSCRIBERS, 150), sent_count(embedded, code)
    assert "database is locked" not in embedded.log.read_text()


def test_ctrl_c_stops_the_web_server_the_worker_and_beat(embedded):
    groups = set(embedded.children.values())
    assert len(groups) == 3
    assert group_members(groups)
    embedded.proc.send_signal(signal.SIGINT)
    assert embedded.proc.wait(timeout=60) == 0
    deadline = time.monotonic() + 10
    while group_members(groups) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not group_members(groups)
    assert not any(alive(pid) for pid in groups)
    assert embedded.request("GET", "/api/v2/status.json", timeout=5)[0] == 0
