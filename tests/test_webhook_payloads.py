"""The payloads and chat messages, field for field; and read the way a real consumer reads them.

The consumer: Zulip's Statuspage integration (zerver/webhooks/statuspage/view.py) takes an incident event's
incident.name, incident.status, incident.incident_updates[0].body and page.status_description, and a component
event's component.name, component_update.old_status and new_status and page.status_description.
"""

import json

import pytest

from incidents import services
from incidents.choices import ComponentStatus as S
from incidents.choices import IncidentStatus
from notifications import chat_messages, webhook_payloads
from notifications.models import Notification

INCIDENT_KEYS = [
    "name", "status", "created_at", "updated_at", "monitoring_at", "resolved_at", "impact", "shortlink",
    "postmortem_ignored", "postmortem_body", "postmortem_body_last_updated_at", "postmortem_published_at",
    "postmortem_notified_subscribers", "postmortem_notified_twitter", "backfilled", "scheduled_for",
    "scheduled_until", "scheduled_remind_prior", "scheduled_reminded_at", "impact_override",
    "scheduled_auto_in_progress", "scheduled_auto_completed", "scheduled_auto_transition", "id", "page_id",
    "incident_updates", "components",
]  # fmt: skip
UPDATE_KEYS = [
    "status", "body", "created_at", "wants_twitter_update", "twitter_updated_at", "updated_at", "display_at",
    "affected_components", "custom_tweet", "deliver_notifications", "id", "incident_id",
]  # fmt: skip
COMPONENT_KEYS = ["status", "name", "created_at", "updated_at", "position", "description", "showcase", "id",
                  "page_id", "group_id"]  # fmt: skip


@pytest.fixture
def story(page, make_component):
    api = make_component("API")
    incident = services.incident_create(page=page, name="Slow API", body="Looking.", components={api: S.MAJOR_OUTAGE})
    update = services.incident_post_update(
        incident=incident,
        status=IncidentStatus.IDENTIFIED,
        body="**Found**: [the cache](https://example.com) <b>&</b> @everyone",
    )
    change = api.status_changes.get()
    return page, api, incident, update, change


def zulip_reads(payload: dict) -> tuple[str, str]:
    """What Zulip's integration reads (topic, body), with its own templates."""
    if "incident" in payload:
        incident = payload["incident"]
        topic = f"{incident['name']}: {payload['page']['status_description']}"
        return (
            topic,
            f"**{incident['name']}**:\n* State: **{incident['status']}**\n* Description: {incident['incident_updates'][0]['body']}",
        )
    component, update = payload["component"], payload["component_update"]
    topic = f"{component['name']}: {payload['page']['status_description']}"
    return (
        topic,
        f"**{component['name']}** has changed status from **{update['old_status']}** to **{update['new_status']}**.",
    )


def test_incident_payload_has_statuspages_fields_in_order_latest_update_first(story):
    page, api, incident, update, _ = story
    payload = webhook_payloads.incident_event(update.pk)
    assert list(payload) == ["meta", "page", "incident"]
    assert list(payload["meta"]) == ["unsubscribe", "documentation", "generated_at"]
    assert payload["page"] == {
        "id": page.code,
        "status_indicator": "critical",
        "status_description": "Major System Outage",
    }
    assert list(payload["incident"]) == INCIDENT_KEYS
    assert list(payload["incident"]["incident_updates"][0]) == UPDATE_KEYS
    assert list(payload["incident"]["components"][0]) == COMPONENT_KEYS
    assert [u["status"] for u in payload["incident"]["incident_updates"]] == ["identified", "investigating"]
    first = payload["incident"]["incident_updates"][1]
    assert first["affected_components"] == [
        {"code": api.code, "name": "API", "old_status": "operational", "new_status": "major_outage"}
    ]
    assert payload["incident"]["created_at"].endswith("Z")
    # The first update's event, built later, still shows that update as the latest.
    earlier = webhook_payloads.incident_event(incident.updates.order_by("id").first().pk)
    assert [u["status"] for u in earlier["incident"]["incident_updates"]] == ["investigating"]


def test_component_payload_has_statuspages_fields(story):
    page, api, _, _, change = story
    payload = webhook_payloads.component_event(change.pk)
    assert list(payload) == ["meta", "page", "component", "component_update"]
    assert list(payload["component"]) == COMPONENT_KEYS
    assert list(payload["component_update"]) == [
        "old_status",
        "new_status",
        "created_at",
        "component_type",
        "id",
        "component_id",
    ]
    assert payload["component_update"]["component_type"] == "Component"
    assert payload["component_update"]["component_id"] == api.code


def test_a_real_consumer_reads_both_events(story):
    page, api, incident, update, change = story
    body = webhook_payloads.for_subscriber(webhook_payloads.incident_event(update.pk), "https://x/unsubscribe")
    topic, text = zulip_reads(json.loads(body))
    assert topic == "Slow API: Major System Outage"
    assert "* State: **identified**" in text
    assert text.endswith("[the cache](https://example.com) <b>&</b> @everyone")
    topic, text = zulip_reads(
        json.loads(webhook_payloads.for_subscriber(webhook_payloads.component_event(change.pk), "u"))
    )
    assert text == "**API** has changed status from **operational** to **major_outage**."


def test_chat_messages_are_native_to_each_app(story):
    page, api, incident, update, _ = story
    notification = Notification.objects.get(update=update)
    slack = chat_messages.message("slack", notification)
    blocks = slack["attachments"][0]["blocks"]
    assert slack["attachments"][0]["color"] == "#e74c3c"
    assert blocks[0]["text"]["text"] == "Slow API: Identified"
    assert blocks[1]["text"]["text"] == "*Found*: <https://example.com|the cache> *&amp;* @everyone"
    assert blocks[2]["text"]["text"] == "*Affected components*\n• API: Major outage"
    assert blocks[3]["elements"][0]["url"].endswith(f"/incidents/{incident.code}")

    teams = chat_messages.message("teams", notification)
    card = teams["attachments"][0]["content"]
    assert teams["attachments"][0]["contentType"] == "application/vnd.microsoft.card.adaptive"
    assert card["type"] == "AdaptiveCard"
    assert card["body"][2]["text"] == "**Found**: [the cache](https://example.com) **&** @everyone"
    assert card["body"][3]["facts"] == [{"title": "API", "value": "Major outage"}]

    discord = chat_messages.message("discord", notification)
    embed = discord["embeds"][0]
    assert embed["title"] == "Slow API: Identified"
    assert embed["color"] == 0xE74C3C
    assert embed["description"] == "**Found**: [the cache](https://example.com) **&** @\u200beveryone"
    assert discord["allowed_mentions"] == {"parse": []}


def test_a_second_update_in_the_same_stage_is_labelled_update(story):
    page, api, incident, update, _ = story
    again = services.incident_post_update(incident=incident, body="Still on it.")
    notification = Notification.objects.get(update=again)
    assert chat_messages.message("discord", notification)["embeds"][0]["title"] == "Slow API: Update"
