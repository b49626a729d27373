"""import_statuspage between two live instances of this project: instance A, a real server in a subprocess
with its own database, filled with a page's whole history; imported over HTTP into the test database (B).
B's public API v2, incident pages and uptime bars then equal A's, ids included; running it again doubles
nothing, and a change made at A since comes over."""

import re
from io import StringIO

import pytest
import requests
from bs4 import BeautifulSoup
from django.contrib.auth.models import User
from django.core.management import call_command

from accounts.models import ApiKey
from incidents.models import (
    Component,
    ComponentGroup,
    ComponentStatusChange,
    Incident,
    IncidentTemplate,
    IncidentUpdate,
)
from notifications.models import Subscriber
from tests.live_instance import Instance

pytestmark = pytest.mark.timeout(600)

FILL = """
import json
from datetime import timedelta
from io import StringIO
from django.contrib.auth.models import User
from django.contrib.auth.models import User
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone
from incidents import page_services, services
from incidents.services.maintenance import maintenance_complete, maintenance_create, maintenance_start
from notifications.services import subscribe

now = timezone.now()
def ago(**kw):
    return now - timedelta(**kw)

page = services.page_create(name="Nimbus Mail", time_zone="Europe/Berlin")
page_services.page_update(page=page, url="https://nimbus.example", support_url="mailto:help@nimbus.example")
since = (now - timedelta(days=60)).date()
delivery = services.component_group_create(page=page, name="Delivery", description="Sending and receiving")
smtp = services.component_create(page=page, name="SMTP relay", group=delivery, start_date=since, description="Out")
imap = services.component_create(page=page, name="IMAP", group=delivery, start_date=since)
api = services.component_create(page=page, name="API", start_date=since)
web = services.component_create(page=page, name="Webmail", start_date=since, only_show_if_degraded=True)

# A minor incident, nine staged updates (two near-identical ones a minute apart), then a postmortem.
start = ago(days=20, hours=6)
outage = services.incident_create(page=page, name="Delayed outbound mail", body="We are looking into delays.",
    components={smtp: "degraded_performance"}, affected=[imap], display_at=start, deliver_notifications=False)
steps = [
    (10, "investigating", "Still looking into the delays.", {}),
    (11, "investigating", "Still looking into the delays!", {}),
    (40, "identified", "A queue node is full.", {smtp: "partial_outage"}),
    (70, "identified", "Draining the queue.", {}),
    (120, "monitoring", "Queue drained; watching.", {smtp: "degraded_performance"}),
    (150, "monitoring", "Delivery times are back to normal.", {}),
    (200, "resolved", "This incident has been resolved.", {smtp: "operational"}),
]
for minutes, status, body, components in steps:
    services.incident_post_update(incident=outage, status=status, body=body, components=components,
        display_at=start + timedelta(minutes=minutes), deliver_notifications=minutes == 40)
services.incident_postmortem_publish(incident=outage, body="## What happened\\n\\n- a **full** queue\\n- no alert")

# A major incident across groups, with its impact overridden.
api_down = services.incident_create(page=page, name="API errors", body="Errors on the API.",
    components={api: "major_outage", imap: "partial_outage"}, impact_override="critical",
    display_at=ago(days=3, hours=2), deliver_notifications=False)
services.incident_post_update(incident=api_down, status="resolved", body="Fixed.",
    components={api: "operational", imap: "operational"}, display_at=ago(days=3), deliver_notifications=False)

# An open incident, degraded (no downtime counted: the uptime figures do not move while the test runs).
slow = services.incident_create(page=page, name="Slow webmail", body="Webmail is slow.",
    components={web: "degraded_performance"}, display_at=ago(hours=2), deliver_notifications=False)

# A maintenance done, and one to come.
window = ago(days=10)
done = maintenance_create(page=page, name="Database upgrade", body="We upgrade the database.",
    scheduled_for=window, scheduled_until=window + timedelta(hours=2), components=[api],
    auto_in_progress=False, auto_completed=False, deliver_notifications=False, display_at=ago(days=12))
maintenance_start(maintenance=done, display_at=window, deliver_notifications=False)
maintenance_complete(maintenance=done, display_at=window + timedelta(hours=1), deliver_notifications=False)
maintenance_create(page=page, name="Network work", body="Brief interruptions.", scheduled_for=now + timedelta(days=3),
    scheduled_until=now + timedelta(days=3, hours=1), components=[smtp, imap], deliver_notifications=False)

page_services.incident_template_create(page=page, name="Relay down", title="Outbound mail delayed",
    body="We are looking into it.", update_status="identified", components={smtp: "major_outage", imap: ""})
with transaction.atomic():
    subscribe(page=page, email="ops@customer.example", components=[api], confirmed=True)
    subscribe(page=page, email="all@customer.example", confirmed=True)
    subscribe(page=page, email="mail@customer.example", groups=[delivery], confirmed=True)
    subscribe(page=page, email="later@customer.example", components=[web])

User.objects.create_superuser("boss", "boss@example.com", "not-used")
out = StringIO()
call_command("create_api_key", "boss", stdout=out)
print(json.dumps({"page": page.code, "key": out.getvalue().strip(), "open": slow.code}))
"""

MODELS = (Component, ComponentGroup, Incident, IncidentUpdate, ComponentStatusChange, IncidentTemplate, Subscriber)


@pytest.fixture(scope="module")
def instance_a(tmp_path_factory):
    instance = Instance(tmp_path_factory.mktemp("instance-a"))
    try:
        instance.start()
        instance.ids = instance.fill(FILL)
        instance.serve()
        yield instance
    finally:
        instance.kill()


def without_updated_at(value):
    if isinstance(value, dict):
        return {k: without_updated_at(v) for k, v in value.items() if k != "updated_at"}
    if isinstance(value, list):
        return [without_updated_at(v) for v in value]
    return value


def import_from(a) -> str:
    out = StringIO()
    call_command(
        "import_statuspage", "--api-key", a.ids["key"], "--page-id", a.ids["page"],
        "--base-url", f"{a.url}/api/v1", "--quiet", stdout=out,
    )  # fmt: skip
    return out.getvalue()


def public_documents(get, codes) -> dict:
    paths = ["summary.json", "components.json", "incidents.json", "incidents/unresolved.json",
             "scheduled-maintenances.json", *[f"incidents/{code}.json" for code in codes]]  # fmt: skip
    return {path: without_updated_at(get(f"/api/v2/{path}")) for path in paths}


def page_parts(html: str) -> dict:
    """What a visitor reads: the main text (relative times aside), the uptime bars and their legends."""
    main = BeautifulSoup(html, "html.parser").find("main")
    return {
        "text": re.sub(r"\s+", " ", main.get_text(" ")).strip(),
        "bars": [str(svg) for svg in main.select("svg.bars")],
        "legends": [p.get_text() for p in main.select(".uptime-legend")],
    }


def assert_b_equals_a(a, client):
    def get_a(path):
        return requests.get(a.url + path, timeout=30).json()

    def get_b(path):
        return client.get(path).json()

    codes = [incident["id"] for incident in get_a("/api/v2/incidents.json")["incidents"]]
    codes += [m["id"] for m in get_a("/api/v2/scheduled-maintenances.json")["scheduled_maintenances"]]
    assert len(codes) == 5
    assert public_documents(get_b, codes) == public_documents(get_a, codes)
    for path in ["/", *[f"/incidents/{code}" for code in codes]]:
        assert page_parts(client.get(path).content.decode()) == page_parts(requests.get(a.url + path).text), path


def assert_manage_lists_equal(a, client):
    """Templates and subscribers, as each side's manage API lists them (B's through a key of its own)."""
    key = ApiKey.issue(User.objects.create_user(f"reader{ApiKey.objects.count()}", is_superuser=True))[1]
    base = f"/api/v1/pages/{a.ids['page']}"
    for path, fields in (("incident_templates", None), ("subscribers", ("id", "email", "components", "state"))):
        theirs = requests.get(f"{a.url}{base}/{path}", headers={"Authorization": f"OAuth {a.ids['key']}"}).json()
        ours = client.get(f"{base}/{path}", headers={"Authorization": f"OAuth {key}"}).json()
        if fields:
            theirs, ours = ([{f: item[f] for f in fields} for item in items] for items in (theirs, ours))
        assert without_updated_at(ours) == without_updated_at(theirs), path


def test_a_page_moves_with_its_whole_history_and_a_second_run_doubles_nothing(instance_a, db, client):
    report = import_from(instance_a)
    assert f"Imported into page {instance_a.ids['page']} (Nimbus Mail)." in report
    assert "incidents: 5 imported" in report
    assert "subscribers: 4 imported" in report
    assert_b_equals_a(instance_a, client)
    assert_manage_lists_equal(instance_a, client)
    page = Incident.objects.first().page
    assert (page.url, page.support_url, page.time_zone) == (
        "https://nimbus.example", "mailto:help@nimbus.example", "Europe/Berlin"
    )  # fmt: skip
    # Confirmed there, confirmed here without an email; the unconfirmed one is asked to confirm.
    states = dict(Subscriber.objects.values_list("email", "state"))
    assert states["ops@customer.example"] == "confirmed"
    assert states["later@customer.example"] == "pending"

    counts = [model.objects.count() for model in MODELS]
    again = import_from(instance_a)
    assert [model.objects.count() for model in MODELS] == counts
    assert "incidents: 5 unchanged" in again
    assert "subscribers: 4 unchanged" in again
    assert_b_equals_a(instance_a, client)

    # A change at A since the last run: a new update of the open incident comes over with its id.
    response = requests.patch(
        f"{instance_a.url}/api/v1/pages/{instance_a.ids['page']}/incidents/{instance_a.ids['open']}",
        json={"incident": {"status": "identified", "body": "Found the slow query.", "deliver_notifications": False}},
        headers={"Authorization": f"OAuth {instance_a.ids['key']}"},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    third = import_from(instance_a)
    assert "incidents: 1 updated, 4 unchanged" in third
    assert IncidentUpdate.objects.count() == counts[3] + 1
    assert_b_equals_a(instance_a, client)
