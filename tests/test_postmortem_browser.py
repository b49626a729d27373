"""The postmortem and a maintenance's page in a real browser, at desktop and phone width."""

from datetime import timedelta

import pytest
from django.utils import timezone

from incidents import services
from incidents.choices import IncidentStatus as I
from incidents.services.maintenance import maintenance_create

pytestmark = pytest.mark.browser


@pytest.fixture
def setup(transactional_db, make_user):
    page = services.page_create(name="Acme Cloud")
    api = services.component_create(page=page, name="API")
    earlier = timezone.now() - timedelta(hours=2)
    incident = services.incident_create(page=page, name="API errors", body="Looking.", display_at=earlier)
    services.incident_post_update(incident=incident, body="Fixed.", status=I.RESOLVED)
    start = timezone.now() + timedelta(days=1)
    maintenance = maintenance_create(
        page=page, name="Database upgrade", body="We upgrade the database.", scheduled_for=start,
        scheduled_until=start + timedelta(hours=2), components=[api],
    )  # fmt: skip
    make_user("rita", "Responders", password="rita-secret-123")
    return incident, maintenance


def log_in(browser, live_server, width):
    context = browser.new_context(viewport={"width": width, "height": 900})
    tab = context.new_page()
    tab.goto(live_server.url + "/admin/login/")
    tab.fill("#id_username", "rita")
    tab.fill("#id_password", "rita-secret-123")
    tab.click("input[type=submit]")
    return tab


@pytest.mark.parametrize("width", [1280, 390])
def test_publishing_changes_keeps_one_postmortem(browser, live_server, setup, width):
    incident, _ = setup
    tab = log_in(browser, live_server, width)
    tab.goto(f"{live_server.url}/admin/incidents/incident/{incident.pk}/change/")
    assert tab.locator("#id_postmortem").is_visible()  # resolved: the section is open
    tab.fill("#id_postmortem", "## Root cause\n\nA bad deploy.")
    tab.get_by_role("button", name="Publish postmortem").click()
    tab.wait_for_selector(".messagelist .success")
    assert tab.locator("#postmortem summary").inner_text().startswith("Postmortem published ")
    assert not tab.locator("#id_postmortem_notify").is_checked()

    tab.fill("#id_postmortem", "## Root cause\n\nA bad deploy, rolled back.")
    tab.get_by_role("button", name="Publish changes").click()
    tab.wait_for_selector(".messagelist .success")
    assert tab.locator(".sp-label").all_inner_texts() == ["Postmortem", "Resolved", "Investigating"]
    assert tab.evaluate("document.documentElement.scrollWidth") <= width
    tab.screenshot(path=f"/tmp/postmortem-admin-{width}.png", full_page=True)

    public = tab.context.new_page()
    public.goto(f"{live_server.url}/incidents/{incident.code}")
    assert public.locator(".timeline .update-label").all_inner_texts() == ["Postmortem", "Resolved", "Investigating"]
    assert "rolled back" in public.locator(".timeline").inner_text()
    tab.context.close()


@pytest.mark.parametrize("width", [1280, 390])
def test_a_maintenances_page_has_no_incident_only_controls(browser, live_server, setup, width):
    _, maintenance = setup
    tab = log_in(browser, live_server, width)
    tab.goto(f"{live_server.url}/admin/incidents/incident/{maintenance.pk}/change/")
    shown = tab.locator("#content-main").inner_text()
    assert "scheduled for" in shown
    for absent in ("Postmortem", "Time to identify", "Promises kept", "Next update in"):
        assert absent not in shown, absent
    assert tab.evaluate("document.documentElement.scrollWidth") <= width
    tab.screenshot(path=f"/tmp/maintenance-admin-{width}.png", full_page=True)
    tab.context.close()
