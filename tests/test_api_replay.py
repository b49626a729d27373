"""A whole seed-shaped timeline entered after the fact through the manage API reads back exactly.

The timeline follows the shape of seeds/kustomer-whatsapp-2025-06-06.txt (a minor incident on one component,
nine staged updates, a postmortem a week later), in our own words for a fictional company.
"""

import re

from bs4 import BeautifulSoup

from incidents import services
from incidents.choices import ComponentStatus as S
from incidents.models import Component
from tests.api_support import Api

TIMELINE = [
    ("investigating", "2025-06-06T17:41:00Z", "Outgoing chat messages are leaving late. We are looking into it."),
    ("investigating", "2025-06-06T17:42:00Z", "Outgoing chat messages are leaving late. We are looking into it now."),
    ("investigating", "2025-06-06T18:05:00Z", "We keep investigating the delays; next update within 30 minutes."),
    ("investigating", "2025-06-06T18:34:00Z", "Still investigating the delayed messages."),
    ("identified", "2025-06-06T19:04:00Z", "We found the cause: the sending service cannot keep up with a surge."),
    ("identified", "2025-06-06T19:32:00Z", "We are rolling out more capacity for the sending service."),
    ("identified", "2025-06-06T20:01:00Z", "The rollout continues."),
    ("monitoring", "2025-06-06T20:10:00Z", "A fix is in place; we are watching the queues drain."),
    ("resolved", "2025-06-06T21:01:00Z", "Messages leave on time again. Sorry for the delay."),
    (
        "postmortem",
        "2025-06-13T19:37:00Z",
        "## Summary\n\nA **surge** overloaded the sender.\n\n## Follow-ups\n\n* Scale faster\n* Lower the retry rate",
    ),
]
LABELS = [
    "Postmortem",
    "Resolved",
    "Monitoring",
    "Update",
    "Update",
    "Identified",
    "Update",
    "Update",
    "Update",
    "Investigating",
]


def test_a_backfilled_timeline_reads_back_through_the_public_api_and_the_incident_page(
    client, page, make_component, responder_api
):
    chat = make_component("Chat - Messaging")
    status, at, body = TIMELINE[0]
    created = responder_api.post(
        "incidents",
        {"incident": {"name": "Outgoing chat messages delayed", "status": status, "body": body,
                      "components": {chat.code: "degraded_performance"}}},
    )  # fmt: skip
    assert created.status_code == 201, created.content
    code = created.json()["id"]
    update_code = created.json()["incident_updates"][0]["id"]
    response = responder_api.patch(
        f"incidents/{code}/incident_updates/{update_code}", {"incident_update": {"display_at": at}}
    )
    assert response.status_code == 200, response.content

    for status, at, body in TIMELINE[1:]:
        changes = {chat.code: "operational"} if status == "resolved" else {}
        posted = responder_api.patch(
            f"incidents/{code}", {"incident": {"status": status, "body": body, "components": changes}}
        )
        assert posted.status_code == 200, posted.content
        update_code = posted.json()["incident_updates"][0]["id"]
        edited = responder_api.patch(
            f"incidents/{code}/incident_updates/{update_code}", {"incident_update": {"display_at": at}}
        )
        assert edited.status_code == 200, edited.content
        assert edited.json()["display_at"] == at.replace(":00Z", ":00.000Z")

    chat.refresh_from_db()
    assert chat.status == S.OPERATIONAL
    assert Component.objects.get(pk=chat.pk).status_changes.count() == 2

    incident = client.get(f"/api/v2/incidents/{code}.json").json()["incident"]
    assert incident["status"] == "postmortem"
    assert incident["impact"] == "minor"
    assert incident["started_at"] == "2025-06-06T17:41:00.000Z"
    assert incident["monitoring_at"] == "2025-06-06T20:10:00.000Z"
    assert incident["resolved_at"] == "2025-06-06T21:01:00.000Z"
    assert [(u["status"], u["display_at"], u["body"]) for u in incident["incident_updates"]] == [
        (s, a.replace(":00Z", ":00.000Z"), b) for s, a, b in reversed(TIMELINE)
    ]
    assert incident["incident_updates"][1]["affected_components"] == [
        {
            "code": chat.code,
            "name": "Chat - Messaging",
            "old_status": "degraded_performance",
            "new_status": "operational",
        }
    ]
    assert [c["name"] for c in incident["components"]] == ["Chat - Messaging"]
    assert client.get("/api/v2/incidents/unresolved.json").json()["incidents"] == []
    assert client.get("/api/v2/status.json").json()["status"]["indicator"] == "none"

    html = BeautifulSoup(client.get(f"/incidents/{code}").content, "html.parser")
    assert [h.get_text(strip=True) for h in html.select(".update-label")] == LABELS
    summary = html.select_one(".summary").get_text(" ", strip=True)
    assert re.sub(r"\s+", " ", summary) == (
        "Acme Cloud experienced a minor incident on June 6, 2025 affecting Chat - Messaging, lasting 3h 20m."
    )
    assert "Posted Jun 6, 2025 - 17:41 UTC" in html.get_text(" ", strip=True).replace("\n", " ")
    assert html.select_one(".affected").get_text(strip=True) == "This incident affected: Chat - Messaging."


# The shape of seeds/batch-status-page-2024-11-07.txt: a major incident over three component groups, with
# "Update" entries between the stages, entered form-encoded on a page in Europe/Paris.
GROUPED_TIMELINE = [
    ("investigating", "2024-11-07T17:09:00Z", "Sending and the public API are failing. We are on it."),
    ("identified", "2024-11-07T17:47:00Z", "We found the faulty storage cluster; finding out what it touches."),
    ("identified", "2024-11-07T18:18:00Z", "Sending is coming back; the API still fails often."),
    ("identified", "2024-11-07T18:48:00Z", "The API is back for most calls."),
    ("identified", "2024-11-07T19:48:00Z", "Web SDK events are being replayed."),
    ("identified", "2024-11-07T21:01:00Z", "Queued API calls are being processed."),
    ("monitoring", "2024-11-07T22:33:00Z", "Everything runs again; we are watching it."),
    ("monitoring", "2024-11-08T09:23:00Z", "The last audience endpoint recovered overnight."),
    ("resolved", "2024-11-08T13:26:00Z", "Resolved. A full report follows next week."),
    (
        "postmortem",
        "2024-11-12T16:29:00Z",
        "| Time | Event |\n| --- | --- |\n| 17:09 | Alert fired |\n| 22:33 | Recovered |",
    ),
]
GROUPED_LABELS = [
    "Postmortem",
    "Resolved",
    "Update",
    "Monitoring",
    "Update",
    "Update",
    "Update",
    "Update",
    "Identified",
    "Investigating",
]


def test_a_grouped_timeline_entered_form_encoded_reads_back_in_the_pages_zone(client, other_page, responder_key):
    api_group = services.component_group_create(page=other_page, name="API")
    web = services.component_group_create(page=other_page, name="Webservices")
    delivery = services.component_group_create(page=other_page, name="Delivery")
    transactional = services.component_create(page=other_page, name="Transactional API", group=api_group)
    audience = services.component_create(page=other_page, name="Audience API", group=api_group)
    sdk = services.component_create(page=other_page, name="SDK", group=web)
    push = services.component_create(page=other_page, name="Push campaigns", group=delivery)
    services.component_create(page=other_page, name="Email", group=delivery)
    hit = [transactional, audience, sdk, push]
    api = Api(client, other_page, responder_key)

    status, at, body = GROUPED_TIMELINE[0]
    fields = [("incident[name]", "Sending and API outage"), ("incident[status]", status), ("incident[body]", body)]
    fields += [(f"incident[components][{c.code}]", "partial_outage") for c in hit]
    created = api.send_form("post", "incidents", fields)
    assert created.status_code == 201, created.content
    code = created.json()["id"]
    for n, (status, at, body) in enumerate(GROUPED_TIMELINE):
        if n:
            fields = [("incident[status]", status), ("incident[body]", body)]
            if status == "resolved":
                fields += [(f"incident[components][{c.code}]", "operational") for c in hit]
            posted = api.send_form("patch", f"incidents/{code}", fields)
            assert posted.status_code == 200, posted.content
        update_code = api.get(f"incidents/{code}").json()["incident_updates"][0]["id"]
        edited = api.send_form(
            "patch", f"incidents/{code}/incident_updates/{update_code}", [("incident_update[display_at]", at)]
        )
        assert edited.status_code == 200, edited.content

    incident = client.get(f"/p/{other_page.code}/api/v2/incidents/{code}.json").json()["incident"]
    assert incident["impact"] == "major"
    assert incident["started_at"] == "2024-11-07T18:09:00.000+01:00"
    assert incident["monitoring_at"] == "2024-11-07T23:33:00.000+01:00"
    assert incident["resolved_at"] == "2024-11-08T14:26:00.000+01:00"
    assert [u["status"] for u in incident["incident_updates"]] == [s for s, _, _ in reversed(GROUPED_TIMELINE)]
    assert [c["name"] for c in incident["components"]] == ["Transactional API", "Audience API", "SDK", "Push campaigns"]
    assert {c["group_id"] for c in incident["components"]} == {api_group.code, web.code, delivery.code}

    html = BeautifulSoup(client.get(f"/p/{other_page.code}/incidents/{code}").content, "html.parser")
    assert [h.get_text(strip=True) for h in html.select(".update-label")] == GROUPED_LABELS
    assert html.select_one(".affected").get_text(strip=True) == (
        "This incident affected: API (Transactional API, Audience API), Webservices (SDK), and Delivery (Push campaigns)."
    )
    assert "Nov 7, 2024 - 18:09 CET" in html.get_text(" ", strip=True)
    assert "<table>" in str(html.select_one(".update .md"))
