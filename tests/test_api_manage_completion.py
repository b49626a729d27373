"""The rest of Statuspage's manage API v1: pages, the .json suffix, postmortems, component uptime, subscriber
extras, one incident template, and JSON errors that name an unsupported call."""

from datetime import timedelta

import pytest
from django.utils import timezone

from incidents import page_services, services
from incidents.models import IncidentTemplate, Page
from notifications import services as notifications
from notifications.endpoint_subscribers import subscribe_endpoint
from notifications.models import SubscriberState


def test_pages_are_listed_and_one_page_reads_as_statuspage_s_profile(admin_api, page):
    listed = admin_api.client.get("/api/v1/pages", headers=admin_api.headers())
    assert listed.status_code == 200
    assert [p["id"] for p in listed.json()] == [page.code]
    profile = admin_api.client.get(f"/api/v1/pages/{page.code}.json", headers=admin_api.headers()).json()
    assert profile["id"] == page.code
    assert profile["name"] == "Acme Cloud"
    assert profile["time_zone"] == "UTC"
    assert profile["branding"] == "basic"
    assert profile["allow_email_subscribers"] is True
    assert profile["css_link_color"] == "#1f5fbf"


def test_a_page_admin_changes_the_page_s_name_time_zone_website_and_colour(admin_api, page):
    body = {"page": {"name": "Acme", "time_zone": "Europe/Paris", "url": "https://acme.example",
                     "css_link_color": "#aa0000"}}  # fmt: skip
    response = admin_api.client.patch(
        f"/api/v1/pages/{page.code}", body, content_type="application/json", headers=admin_api.headers()
    )
    assert response.status_code == 200, response.content
    page.refresh_from_db()
    assert (page.name, page.time_zone, page.url, page.accent_colour) == (
        "Acme", "Europe/Paris", "https://acme.example", "#aa0000"
    )  # fmt: skip
    bad = admin_api.client.patch(
        f"/api/v1/pages/{page.code}", {"page": {"time_zone": "Mars/Olympus"}},
        content_type="application/json", headers=admin_api.headers(),
    )  # fmt: skip
    assert bad.status_code == 422
    assert "time_zone" in bad.json()["error"]
    assert Page.objects.get(pk=page.pk).time_zone == "Europe/Paris"


def test_a_responder_cannot_change_the_page(responder_api, page):
    response = responder_api.client.patch(
        f"/api/v1/pages/{page.code}", {"page": {"name": "X"}}, content_type="application/json",
        headers=responder_api.headers(),
    )  # fmt: skip
    assert response.status_code == 403


def test_every_manage_path_answers_with_the_json_suffix(admin_api, make_component):
    component = make_component("API")
    assert admin_api.get("components.json").json()[0]["id"] == component.code
    assert admin_api.get(f"components/{component.code}.json").json()["name"] == "API"
    assert admin_api.get("incidents/unresolved.json").json() == []
    created = admin_api.post("incidents.json", {"incident": {"name": "Down", "body": "Looking."}})
    assert created.status_code == 201
    assert admin_api.get(f"incidents/{created.json()['id']}.json").json()["name"] == "Down"
    assert admin_api.get("subscribers.json").status_code == 200


def test_unsupported_calls_answer_json_naming_the_call(admin_api, page):
    gone = admin_api.get("page_access_groups")
    assert gone.status_code == 404
    assert gone.json() == {
        "error": f"No such API endpoint: GET /api/v1/pages/{page.code}/page_access_groups is not a call this "
        "server answers."
    }
    refused = admin_api.post("incidents/unresolved", {"incident": {}})
    assert refused.status_code == 405
    assert refused.json()["error"].startswith(f"POST /api/v1/pages/{page.code}/incidents/unresolved is not a call")


@pytest.fixture
def resolved(page, make_component):
    component = make_component("API", start_date=timezone.now().date() - timedelta(days=30))
    incident = services.incident_create(
        page=page, name="Outage", body="Down.", components={component: "major_outage"},
        deliver_notifications=False, display_at=timezone.now() - timedelta(hours=3),
    )  # fmt: skip
    services.incident_post_update(
        incident=incident, body="Fixed.", status="resolved", components={component: "operational"},
        deliver_notifications=False, display_at=timezone.now() - timedelta(hours=1),
    )  # fmt: skip
    return incident


def test_a_postmortem_is_drafted_published_and_reverted(admin_api, resolved):
    path = f"incidents/{resolved.code}/postmortem"
    assert admin_api.get(path).json()["body"] is None
    draft = admin_api.put(path, {"postmortem": {"body_draft": "## What happened\n\nA bad deploy."}})
    assert draft.status_code == 200
    assert draft.json()["body_draft"].startswith("## What happened")
    assert draft.json()["published_at"] is None
    published = admin_api.put(f"{path}/publish", {"postmortem": {"notify_subscribers": False}})
    assert published.status_code == 200, published.content
    assert published.json()["body"].startswith("## What happened")
    assert published.json()["published_at"]
    assert admin_api.get(f"incidents/{resolved.code}").json()["status"] == "postmortem"
    reverted = admin_api.put(f"{path}/revert", {})
    assert reverted.status_code == 200
    assert reverted.json()["body"] is None
    assert reverted.json()["body_draft"].startswith("## What happened")
    assert admin_api.get(f"incidents/{resolved.code}").json()["status"] == "resolved"


def test_a_component_s_uptime_over_a_range_counts_its_outage(admin_api, resolved, page):
    component = resolved.components.get()
    today = timezone.now().date()
    response = admin_api.get(f"components/{component.code}/uptime", start=str(today - timedelta(days=6)))
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["id"], body["name"], body["range_end"]) == (component.code, "API", str(today))
    assert 2 * 3600 - 5 <= body["major_outage"] <= 2 * 3600 + 5
    assert body["partial_outage"] == 0
    assert body["uptime_percentage"] < 100
    assert body["related_events"] == [{"id": resolved.code}]
    assert admin_api.get(f"components/{component.code}/uptime", start="soon").status_code == 422


def test_subscribers_are_counted_reactivated_and_rescoped(admin_api, page, make_component):
    component = make_component("API")
    confirmed = notifications.subscribe(page=page, email="a@example.com", confirmed=True)
    notifications.subscribe(page=page, email="b@example.com", confirmed=True)
    notifications.subscriber_quarantine(confirmed.pk, "bounced")
    histogram = admin_api.get("subscribers/histogram_by_state").json()
    assert histogram["email"] == {"active": 1, "unconfirmed": 0, "quarantined": 1, "total": 2}
    assert admin_api.get("subscribers/count", state="quarantined").json()["email"] == 1
    assert admin_api.get("subscribers/unsubscribed").json() == []
    assert admin_api.post("subscribers/reactivate", {"subscribers": confirmed.code}).status_code == 202
    confirmed.refresh_from_db()
    assert confirmed.state == SubscriberState.CONFIRMED
    assert confirmed.quarantined_at is None
    scoped = admin_api.patch(f"subscribers/{confirmed.code}", {"subscriber": {"component_ids": [component.code]}})
    assert scoped.status_code == 200
    assert scoped.json()["components"] == [component.code]


def test_one_incident_template_is_read_changed_and_deleted(admin_api, page, make_component):
    component = make_component("API")
    template = page_services.incident_template_create(page=page, name="DB", title="Database slow", body="Looking.")
    path = f"incident_templates/{template.code}"
    assert admin_api.get(path).json()["title"] == "Database slow"
    changed = admin_api.patch(
        path, {"incident_template": {"title": "Database down", "components": {component.code: "major_outage"}}}
    )
    assert changed.status_code == 200, changed.content
    assert changed.json()["title"] == "Database down"
    assert changed.json()["component_statuses"] == {component.code: "major_outage"}
    assert admin_api.patch(path, {"incident_template": {"title": ""}}).status_code == 422
    assert admin_api.delete(path).status_code == 200
    assert not IncidentTemplate.objects.filter(pk=template.pk).exists()


def test_webhook_and_chat_subscribers_are_counted_by_their_type_and_reactivated(admin_api, page, settings):
    settings.WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    hook, _ = subscribe_endpoint(
        page=page, channel="webhook", endpoint="http://127.0.0.1/hook", email="ops@example.com", confirmed=True
    )
    subscribe_endpoint(page=page, channel="slack", endpoint="http://127.0.0.1/slack")
    subscribe_endpoint(page=page, channel="teams", endpoint="http://127.0.0.1/teams")
    notifications.subscribe(page=page, email="a@example.com", confirmed=True)
    notifications.subscriber_quarantine(hook.pk, "10 failures")
    counts = admin_api.get("subscribers/count").json()
    assert counts == {"email": 1, "sms": 0, "webhook": 1, "integration_partner": 1, "slack": 1}
    assert admin_api.get("subscribers/count", type="webhook").json()["email"] == 0
    assert admin_api.get("subscribers/count", type="pigeon").status_code == 422
    histogram = admin_api.get("subscribers/histogram_by_state").json()
    assert histogram["webhook"] == {"active": 0, "unconfirmed": 0, "quarantined": 1, "total": 1}
    assert histogram["slack"]["active"] == 1
    assert admin_api.post("subscribers/reactivate", {"subscribers": "all", "type": "email"}).status_code == 202
    hook.refresh_from_db()
    assert hook.state == SubscriberState.QUARANTINED  # only email subscribers were asked for
    assert admin_api.post("subscribers/reactivate", {"subscribers": [hook.code], "type": "webhook"}).status_code == 202
    hook.refresh_from_db()
    assert hook.state == SubscriberState.CONFIRMED
