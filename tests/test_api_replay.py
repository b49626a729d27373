"""A whole seed-shaped timeline entered after the fact through the manage API reads back exactly.

The timeline follows the shape of seeds/kustomer-whatsapp-2025-06-06.txt (a minor incident on one component,
nine staged updates, a postmortem a week later), in our own words for a fictional company.
"""

import re

from bs4 import BeautifulSoup

from incidents.choices import ComponentStatus as S
from incidents.models import Component

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
