"""import_statuspage against a source in Statuspage's documented shapes (fields this server does not produce:
groups listed among the components, the postmortem beside the updates, webhook and SMS subscribers), served
by a real local HTTP server that also pages its lists and answers 429 with Retry-After once."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import StringIO
from urllib.parse import parse_qs, urlparse

import pytest
from django.core.management import call_command

from api.importer import source
from api.importer.writer import Writer
from incidents.models import Component, Incident, IncidentUpdate
from notifications.models import EmailKind, Subscriber, SubscriberEmail

PAGE = "kctbh9vrtdwd"
CREATED = "2024-03-01T09:00:00.000Z"
PROFILE = {
    "id": PAGE, "created_at": CREATED, "updated_at": CREATED, "name": "Orbit Cloud", "page_description": None,
    "headline": None, "branding": "premium", "subdomain": "orbit", "domain": "status.orbit.example",
    "url": "https://orbit.example", "support_url": "https://orbit.example/help", "hidden_from_search": False,
    "allow_page_subscribers": True, "allow_incident_subscribers": True, "allow_email_subscribers": True,
    "allow_sms_subscribers": True, "allow_rss_atom_feeds": True, "allow_webhook_subscribers": True,
    "notifications_from_email": "noreply@orbit.example", "time_zone": "America/Denver",
    "css_link_color": "#0055aa", "activity_score": 0,
}  # fmt: skip


def component(cid, name, position, group_id=None, status="operational", **extra):
    return {"id": cid, "page_id": PAGE, "group_id": group_id, "created_at": CREATED, "updated_at": CREATED,
            "group": False, "name": name, "description": None, "position": position, "status": status,
            "showcase": True, "only_show_if_degraded": False, "automation_email": "x@notify.example",
            "start_date": "2024-03-01", **extra}  # fmt: skip


COMPONENTS = [
    {**component("grp000000001", "Compute", 1), "group": True, "components": ["cmp000000001"]},
    component("cmp000000001", "VMs", 1, group_id="grp000000001"),
    component("cmp000000002", "DNS", 2),
]
GROUPS = [{"id": "grp000000001", "page_id": PAGE, "name": "Compute", "description": "Machines", "position": 1,
           "components": ["cmp000000001"], "created_at": CREATED, "updated_at": CREATED}]  # fmt: skip


def update(uid, iid, status, body, at, changes=()):
    return {"id": uid, "incident_id": iid, "status": status, "body": body, "created_at": at, "updated_at": at,
            "display_at": at, "deliver_notifications": True, "custom_tweet": None, "tweet_id": None,
            "twitter_updated_at": None, "wants_twitter_update": False,
            "affected_components": [{"code": c, "name": c, "old_status": old, "new_status": new}
                                    for c, old, new in changes] or None}  # fmt: skip


def incident(iid, name, updates, **extra):
    return {"id": iid, "name": name, "status": updates[-1]["status"], "impact": "major", "impact_override": None,
            "created_at": updates[0]["created_at"], "updated_at": updates[-1]["created_at"],
            "started_at": updates[0]["display_at"], "monitoring_at": None, "resolved_at": updates[-1]["display_at"],
            "shortlink": "https://stspg.io/x", "page_id": PAGE, "incident_updates": updates[::-1],
            "components": [component("cmp000000001", "VMs", 1, group_id="grp000000001")],
            "postmortem_body": None, "postmortem_published_at": None, "postmortem_notified_subscribers": False,
            "scheduled_for": None, "scheduled_until": None, "metadata": {}, **extra}  # fmt: skip


GOOD = incident(
    "inc000000001", "VMs unreachable",
    [update("upd000000001", "inc000000001", "investigating", "VMs are unreachable.", "2024-05-02T10:00:00.000Z",
            [("cmp000000001", "operational", "major_outage")]),
     update("upd000000002", "inc000000001", "resolved", "", "2024-05-02T11:30:00.000Z",
            [("cmp000000001", "major_outage", "operational")])],
    postmortem_body="## Cause\n\nA failed switch.", postmortem_published_at="2024-05-09T08:00:00.000Z",
)  # fmt: skip
# Partial data: its second update names a component the page does not have. Nothing of it may be written.
BAD = incident(
    "inc000000002", "Half an incident",
    [update("upd000000003", "inc000000002", "investigating", "Looking.", "2024-06-01T10:00:00.000Z"),
     update("upd000000004", "inc000000002", "resolved", "Done.", "2024-06-01T11:00:00.000Z",
            [("cmpgone00000", "major_outage", "operational")])],
)  # fmt: skip
TEMPLATES = [{"id": "tpl000000001", "name": "VM outage", "title": "VMs unreachable", "body": "We are on it.",
              "group_id": None, "update_status": "investigating", "should_tweet": False,
              "should_send_notifications": True, "components": [COMPONENTS[1]]}]  # fmt: skip


def subscriber(sid, mode, **extra):
    return {"id": sid, "mode": mode, "email": None, "endpoint": None, "phone_number": None, "phone_country": None,
            "display_phone_number": None, "obfuscated_channel_name": None, "workspace_name": None,
            "skip_confirmation_notification": False, "quarantined_at": None, "purge_at": None,
            "components": [], "page_access_user_id": None, "created_at": CREATED, **extra}  # fmt: skip


SUBSCRIBERS = {
    "active": [subscriber("sub000000001", "email", email="dana@customer.example", components=["cmp000000002"]),
               subscriber("sub000000003", "webhook", endpoint="https://hooks.customer.example/status",
                          email="hooks@customer.example"),
               subscriber("sub000000004", "sms", phone_number="5555550100", phone_country="US")],
    "unconfirmed": [subscriber("sub000000002", "email", email="eli@customer.example")],
}  # fmt: skip


class StatuspageLike(BaseHTTPRequestHandler):
    seen: list = []

    def log_message(self, *args):
        pass

    def do_GET(self):
        url = urlparse(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        self.seen.append((url.path, query.get("page")))
        if self.headers.get("Authorization") != "OAuth sp-key" and not url.path.startswith("/api/v2/"):
            return self.answer(401, {"error": "Could not authenticate"})
        base = f"/v1/pages/{PAGE}"
        if url.path == f"{base}/incidents" and self.seen.count((url.path, "1")) == 1:
            return self.answer(429, {"error": "Rate limit exceeded"}, {"Retry-After": "0"})
        lists = {f"{base}/components": COMPONENTS, f"{base}/component-groups": GROUPS, f"{base}/incidents": [BAD, GOOD],
                 f"{base}/incident_templates": TEMPLATES,
                 f"{base}/subscribers": SUBSCRIBERS.get(query.get("state", "active"), [])}  # fmt: skip
        documents = {
            base: PROFILE,
            "/api/v2/components.json": {"page": PROFILE, "components": COMPONENTS},
            "/api/v2/incidents.json": {"page": PROFILE, "incidents": [GOOD]},
            "/api/v2/scheduled-maintenances.json": {"page": PROFILE, "scheduled_maintenances": []},
        }
        if url.path in lists:
            size, number = int(query.get("per_page", 100)), int(query.get("page", 1))
            return self.answer(200, lists[url.path][(number - 1) * size : number * size])
        if url.path in documents:
            return self.answer(200, documents[url.path])
        return self.answer(404, {"error": "Not found"})

    def answer(self, status, body, headers=None):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture
def statuspage(monkeypatch):
    monkeypatch.setattr(source, "PER_PAGE", 2)  # three components: two pages of them
    StatuspageLike.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), StatuspageLike)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def run(*args) -> str:
    out = StringIO()
    call_command("import_statuspage", *args, "--quiet", stdout=out)
    return out.getvalue()


def test_statuspage_s_shapes_are_imported_and_what_cannot_be_is_reported(statuspage, db):
    report = run("--api-key", "sp-key", "--page-id", PAGE, "--base-url", f"{statuspage}/v1")
    assert "component groups: 1 imported" in report
    assert "components: 2 imported" in report
    assert "incidents: 1 imported, 1 skipped" in report
    assert "skipped 1: update upd000000004: component cmpgone00000 is not on the page" in report
    assert "skipped 1: webhook subscribers: the webhook channel is not on this server yet" in report
    assert "skipped 1: sms subscribers: only email subscribers are supported" in report
    # The 429 was waited out and the lists were read page by page.
    assert StatuspageLike.seen.count((f"/v1/pages/{PAGE}/incidents", "1")) == 2
    assert (f"/v1/pages/{PAGE}/components", "2") in StatuspageLike.seen

    vms = Component.objects.get(code="cmp000000001")
    assert (vms.group.code, vms.page.time_zone, vms.page.accent_colour) == ("grp000000001", "America/Denver", "#0055aa")
    good = Incident.objects.get(code="inc000000001")
    assert [(u.code, u.status) for u in good.updates.order_by("display_at")] == [
        ("upd000000001", "investigating"), ("upd000000002", "resolved"), (good.updates.first().code, "postmortem"),
    ]  # fmt: skip
    assert good.updates.get(code="upd000000002").body == "This incident has been resolved."
    assert [(c.old_status, c.new_status) for c in vms.status_changes.order_by("changed_at")] == [
        ("operational", "major_outage"), ("major_outage", "operational")
    ]  # fmt: skip
    # Nothing of the incident with partial data.
    assert not Incident.objects.filter(code="inc000000002").exists()
    assert not IncidentUpdate.objects.filter(code__in=["upd000000003", "upd000000004"]).exists()
    # Confirmed at the source: no email here; unconfirmed: asked to confirm.
    dana, eli = Subscriber.objects.get(code="sub000000001"), Subscriber.objects.get(code="sub000000002")
    assert (dana.state, [c.code for c in dana.components.all()]) == ("confirmed", ["cmp000000002"])
    assert eli.state == "pending"
    assert list(SubscriberEmail.objects.values_list("subscriber__code", "kind")) == [
        ("sub000000002", EmailKind.CONFIRM)
    ]

    again = run("--api-key", "sp-key", "--page-id", PAGE, "--base-url", f"{statuspage}/v1")
    assert "incidents: 1 unchanged, 1 skipped" in again
    assert IncidentUpdate.objects.count() == 3
    assert SubscriberEmail.objects.count() == 1


def test_without_a_key_the_public_api_gives_components_and_incidents(statuspage, db):
    progress = StringIO()
    call_command("import_statuspage", "--public-url", statuspage, stdout=StringIO(), stderr=progress)
    assert "read 2 components" in progress.getvalue()
    assert "incidents          [##############################] 1/1" in progress.getvalue()
    report = run("--public-url", statuspage)
    assert "components: 2 unchanged" in report
    assert "incidents: 1 unchanged" in report
    assert "note: public API v2: only the incidents" in report
    assert Incident.objects.get(code="inc000000001").updates.count() == 3


def test_a_source_that_refuses_the_key_writes_nothing(statuspage, db):
    with pytest.raises(Exception, match="HTTP 401 Could not authenticate"):
        run("--api-key", "wrong", "--page-id", PAGE, "--base-url", f"{statuspage}/v1")
    assert not Component.objects.exists()


def test_an_interrupted_import_resumes_where_it_stopped(statuspage, db, monkeypatch):
    args = ("--api-key", "sp-key", "--page-id", PAGE, "--base-url", f"{statuspage}/v1")

    def stopped(self):
        raise KeyboardInterrupt  # Ctrl-C (or a lost connection) after the incidents were written

    with monkeypatch.context() as patch:
        patch.setattr(Writer, "import_templates", stopped)
        with pytest.raises(KeyboardInterrupt):
            run(*args)
    assert Incident.objects.filter(code="inc000000001").exists()
    assert not Subscriber.objects.exists()
    resumed = run(*args)
    assert "incidents: 1 unchanged, 1 skipped" in resumed
    assert "incident templates: 1 imported" in resumed
    assert "subscribers: 2 imported, 2 skipped" in resumed
