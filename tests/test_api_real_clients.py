"""Real Statuspage clients, unchanged, against the server: atlassian-python-api's page, component, incident,
postmortem and subscriber calls, and crunch-statuspageio (a `statuspageio` client: every path with `.json`).
Each asserts what it reads back."""

import pytest
import statuspageio
from atlassian.statuspage import StatusPage

from accounts.models import ApiKey
from tests.api_support import user_with_role

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def key(transactional_db):
    from accounts import roles

    return ApiKey.issue(user_with_role("terra", roles.PAGE_ADMINS), name="clients")[1]


def test_atlassian_python_api_manages_a_page_through_the_server(live_server, page, key):
    sp = StatusPage(url=f"{live_server.url}/api", token=key)
    assert [p["id"] for p in sp.page_list_pages()] == [page.code]
    assert sp.get_page(page.code)["name"] == "Acme Cloud"
    sp.page_update(page.code, {"name": "Acme", "time_zone": "Europe/Paris"})
    assert (sp.get_page(page.code)["name"], sp.get_page(page.code)["time_zone"]) == ("Acme", "Europe/Paris")

    component = sp.page_create_component(page.code, {"name": "API", "description": "Public API"})
    sp.page_update_component(page.code, component["id"], {"status": "partial_outage"})
    assert [(c["name"], c["status"]) for c in sp.page_get_components(page.code)] == [("API", "partial_outage")]

    incident = sp.page_create_incident(
        page.code,
        {"name": "API errors", "status": "investigating", "body": "Errors on the API.",
         "components": {component["id"]: "major_outage"}, "deliver_notifications": False},
    )  # fmt: skip
    assert [i["id"] for i in sp.page_list_unresolved_incidents(page.code)] == [incident["id"]]
    sp.page_update_incident(
        page.code, incident["id"],
        {"status": "resolved", "body": "Fixed.", "components": {component["id"]: "operational"}},
    )  # fmt: skip
    read = sp.page_get_incident(page.code, incident["id"])
    assert (read["status"], [u["status"] for u in read["incident_updates"]]) == (
        "resolved", ["resolved", "investigating"]
    )  # fmt: skip
    assert sp.page_list_unresolved_incidents(page.code) == []
    sp.page_create_postmortem(page.code, incident["id"], "## Cause\n\nA bad deploy.")
    sp.page_publish_postmortem(page.code, incident["id"], {"notify_subscribers": False})
    assert sp.page_get_postmortem(page.code, incident["id"])["body"] == "## Cause\n\nA bad deploy."

    subscriber = sp.page_create_subscriber(
        page.code, {"email": "ops@customer.example", "skip_confirmation_notification": True}
    )
    sp.page_update_subscriber(page.code, subscriber["id"], [component["id"]])
    read = sp.page_get_subscriber(page.code, subscriber["id"])
    assert (read["email"], read["state"], read["components"]) == (
        "ops@customer.example",
        "confirmed",
        [component["id"]],
    )
    assert sp.page_get_histogram_of_subscribers_with_state(page.code)["email"]["active"] == 1
    assert sp.page_get_list_unsubscribed(page.code) == []


def test_a_statuspageio_client_uses_every_path_with_the_json_suffix(live_server, page, key):
    client = statuspageio.Client(api_key=key, page_id=page.code, base_url=f"{live_server.url}/api")
    assert client.pages.get().name == "Acme Cloud"
    component = client.components.create(name="DNS", description="Name servers")
    assert [c.name for c in client.components.list()] == ["DNS"]
    incident = client.incidents.create(name="DNS slow", status="investigating", body="Looking.",
                                       component_ids=[component.id])  # fmt: skip
    assert [i.id for i in client.incidents.list_unresolved()] == [incident.id]
    client.incidents.update(incident.id, status="resolved", body="Fixed.")
    assert client.incidents.list_unresolved() == []
    assert [i.status for i in client.incidents.list()] == ["resolved"]
    client.subscribers.create(email="dns@customer.example", skip_confirmation_notification=True)
    assert [s.email for s in client.subscribers.list()] == ["dns@customer.example"]
