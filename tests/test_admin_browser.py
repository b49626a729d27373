"""A responder works an incident end to end in a real browser, at phone width, checking the public page."""

import pytest

from incidents import services
from incidents.models import Incident

pytestmark = pytest.mark.browser


@pytest.fixture
def setup(transactional_db, make_user):
    page = services.page_create(name="Acme Cloud")
    group = services.component_group_create(page=page, name="Messaging")
    push = services.component_create(page=page, group=group, name="Push")
    email = services.component_create(page=page, group=group, name="Email")
    services.component_create(page=page, name="Dashboard")
    make_user("rita", "Responders", password="rita-secret-123")
    return page, push, email


def public_text(tab, live_server, path="/"):
    public = tab.context.new_page()
    public.goto(live_server.url + path)
    text = public.locator("main").inner_text()
    public.close()
    return text


def test_a_responder_declares_updates_resolves_and_publishes_a_postmortem(browser, live_server, setup):
    page, push, email = setup
    context = browser.new_context(viewport={"width": 390, "height": 844})
    tab = context.new_page()
    tab.goto(live_server.url + "/admin/login/")
    tab.fill("#id_username", "rita")
    tab.fill("#id_password", "rita-secret-123")
    tab.click("input[type=submit]")

    # Declare, affecting two components.
    tab.goto(live_server.url + "/admin/incidents/incident/add/")
    tab.fill("#id_name", "Messages delayed")
    tab.fill("#id_body", "Pushes and emails are **queued**. Next update within 30 minutes.")
    tab.select_option(f"#id_component_{push.code}", "partial_outage")
    tab.select_option(f"#id_component_{email.code}", "degraded_performance")
    tab.get_by_role("button", name="Declare incident").click()
    tab.wait_for_selector(".sp-timeline")
    assert tab.evaluate("document.documentElement.scrollWidth") <= 390
    shown = public_text(tab, live_server)
    assert "Messages delayed" in shown
    assert "Partial Outage" in shown

    # Identified.
    tab.select_option("#id_status", "identified")
    tab.fill("#id_body", "A stuck consumer is being restarted.")
    tab.get_by_role("button", name="Post update").click()
    tab.wait_for_selector(".messagelist .success")
    assert tab.locator(".sp-label").all_inner_texts() == ["Identified", "Investigating"]
    assert "A stuck consumer is being restarted." in public_text(tab, live_server)

    # The same message again: the guard asks, and nothing is posted until confirmed.
    tab.fill("#id_body", "A stuck consumer is being restarted.")
    tab.get_by_role("button", name="Post update").click()
    tab.wait_for_selector(".sp-duplicate")
    assert len(tab.locator(".sp-label").all_inner_texts()) == 2
    tab.goto(tab.url)  # walk away instead of confirming

    # Resolve: the affected components go back to operational.
    tab.select_option("#id_status", "resolved")
    tab.fill("#id_body", "Everything is delivered.")
    tab.get_by_role("button", name="Post update").click()
    tab.wait_for_selector(".messagelist .success")
    shown = public_text(tab, live_server)
    assert "All Systems Operational" in shown
    assert "Partial Outage" not in shown

    # Publish the postmortem.
    tab.fill("#id_postmortem", "## Root cause\n\nA consumer stopped acknowledging messages.")
    tab.get_by_role("button", name="Publish postmortem").click()
    tab.wait_for_selector(".messagelist .success")
    incident = Incident.objects.get()
    assert tab.locator(".sp-label").all_inner_texts() == ["Postmortem", "Resolved", "Identified", "Investigating"]
    detail = public_text(tab, live_server, f"/incidents/{incident.code}")
    assert "Root cause" in detail
    assert "This incident affected: Messaging (Push, Email)." in detail
    tab.screenshot(path="/tmp/admin-incident-phone.png", full_page=True)
    context.close()
