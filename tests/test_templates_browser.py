"""In a real browser: a page admin builds a template with component statuses, a responder declares from it,
and a maintenance window that is too long asks for confirmation."""

import os

import pytest

from incidents import services
from incidents.models import Incident, IncidentTemplate

pytestmark = pytest.mark.browser
SHOTS = os.environ.get("SCREENSHOT_DIR")


@pytest.fixture
def setup(transactional_db, make_user):
    page = services.page_create(name="Acme Cloud", time_zone="Europe/Paris")
    push = services.component_create(page=page, name="Push")
    email = services.component_create(page=page, name="Email")
    make_user("adam", "Page admins", password="adam-secret-123")
    return page, push, email


@pytest.fixture
def log_in(browser, live_server):
    """A logged-in tab; its context is closed after the test (no connection left to the live server)."""
    contexts = []

    def open_tab(width):
        context = browser.new_context(viewport={"width": width, "height": 900})
        contexts.append(context)
        tab = context.new_page()
        tab.goto(live_server.url + "/admin/login/")
        tab.fill("#id_username", "adam")
        tab.fill("#id_password", "adam-secret-123")
        tab.click("input[type=submit]")
        return tab

    yield open_tab
    for context in contexts:
        context.close()


def shot(tab, name):
    if SHOTS:
        tab.screenshot(path=os.path.join(SHOTS, name), full_page=True)


@pytest.mark.parametrize("width", [1280, 390])
def test_a_template_with_component_statuses_fills_the_declare_form(log_in, live_server, setup, width):
    page, push, email = setup
    tab = log_in(width)
    tab.goto(live_server.url + "/admin/incidents/incidenttemplate/add/")
    tab.select_option("#id_page", str(page.pk))
    tab.fill("#id_name", "Push delays")
    tab.fill("#id_title", "Push notifications delayed")
    tab.fill("#id_body", "Pushes are queued; we are on it.")
    tab.select_option("#id_component_links-0-component", str(push.pk))
    tab.select_option("#id_component_links-0-status", "major_outage")
    shot(tab, f"template-add-{width}.png")
    tab.click("input[name=_save]")
    tab.wait_for_selector(".messagelist")
    template = IncidentTemplate.objects.get()
    assert template.component_statuses() == {push: "major_outage"}

    tab.goto(live_server.url + f"/admin/incidents/incident/add/?template={template.code}")
    assert tab.input_value(f"#id_component_{push.code}") == "major_outage"
    assert tab.input_value(f"#id_component_{email.code}") == ""
    assert tab.input_value("#id_name") == "Push notifications delayed"
    shot(tab, f"declare-from-template-{width}.png")


def test_a_long_maintenance_window_asks_for_confirmation(log_in, live_server, setup):
    tab = log_in(390)
    tab.goto(live_server.url + "/admin/incidents/incident/maintenance/add/")
    tab.fill("#id_name", "Storage migration")
    tab.fill("#id_body", "Moving storage.")
    tab.fill("#id_scheduled_for", "2099-01-01T02:00")
    tab.fill("#id_scheduled_until", "2099-01-01T04:00")
    tab.get_by_role("button", name="Schedule maintenance").click()
    tab.wait_for_selector(".errornote")
    assert "at most a year ahead" in tab.locator("#content-main").inner_text()
    shot(tab, "maintenance-refused-390.png")
    assert not Incident.objects.exists()
