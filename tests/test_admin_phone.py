"""The responder's admin on a phone (390 px) in a real Chromium: the list, the incident's page, the page chooser."""

import pytest
from bs4 import BeautifulSoup
from django.contrib.auth.models import User

from incidents import services
from tests.api_support import grant_role

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
PASSWORD = "rita-secret-123"


@pytest.fixture
def setup(transactional_db, make_user):
    page = services.page_create(name="Acme Cloud")
    components = []
    for group_name in ("API", "Messaging", "Web"):
        group = services.component_group_create(page=page, name=group_name)
        components += [services.component_create(page=page, group=group, name=f"{group_name} {n}") for n in range(3)]
    incident = services.incident_create(
        page=page, name="Push notifications are delayed for some customers", body="Looking.",
        components={components[3]: "partial_outage"},
    )  # fmt: skip
    make_user("rita", "Responders", password=PASSWORD)
    return page, incident


def logged_in_tab(browser, live_server, **options):
    context = browser.new_context(viewport=PHONE, **options)
    tab = context.new_page()
    tab.goto(live_server.url + "/admin/login/")
    tab.fill("#id_username", "rita")
    tab.fill("#id_password", PASSWORD)
    tab.click("input[type=submit]")
    tab.wait_for_selector("#content")
    return tab


def box(tab, selector):
    return tab.locator(selector).first.bounding_box()


def test_the_incident_list_shows_impact_and_minutes_without_sideways_scrolling(browser, live_server, setup):
    tab = logged_in_tab(browser, live_server)
    tab.goto(live_server.url + "/admin/incidents/incident/")
    row = "#result_list tbody tr:first-child"
    for cell in (".field-impact_label", ".field-since_last_update"):
        assert tab.locator(f"{row} {cell}").is_visible()
        where = box(tab, f"{row} {cell}")
        assert where["x"] >= 0, cell
        assert where["x"] + where["width"] <= PHONE["width"], cell
    assert tab.locator(f"{row} .field-impact_label").inner_text() == "Impact: Major"
    assert "Last update: 0 min ago" in tab.locator(f"{row} .field-since_last_update").inner_text()
    results = tab.locator("#changelist .results")
    assert results.evaluate("el => el.scrollWidth <= el.clientWidth")
    assert tab.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    tab.screenshot(path="/tmp/admin-incident-list-phone.png", full_page=True)
    tab.context.close()


def test_post_update_is_in_reach_and_the_components_open_on_resolved(browser, live_server, setup):
    page, incident = setup
    tab = logged_in_tab(browser, live_server)
    tab.goto(live_server.url + f"/admin/incidents/incident/{incident.pk}/change/")
    button = box(tab, "input[name=_post]")
    assert button["y"] + button["height"] / 2 < PHONE["height"]  # on the first screen
    first_component = tab.locator(".sp-component select").first
    assert not first_component.is_visible()
    assert tab.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    tab.select_option("#id_status", "resolved")
    assert first_component.is_visible()
    tab.screenshot(path="/tmp/admin-incident-resolving-phone.png", full_page=True)
    # Another stage does not close what is open; the responder's choice stays visible.
    tab.select_option("#id_status", "monitoring")
    assert first_component.is_visible()
    tab.context.close()


def test_without_javascript_the_components_open_by_hand(browser, live_server, setup):
    page, incident = setup
    tab = logged_in_tab(browser, live_server, java_script_enabled=False)
    tab.goto(live_server.url + f"/admin/incidents/incident/{incident.pk}/change/")
    first_component = tab.locator(".sp-component select").first
    assert not first_component.is_visible()
    tab.click("#sp-components > summary")
    assert first_component.is_visible()
    tab.context.close()


def test_the_page_chooser_has_no_bullets(browser, live_server, setup):
    labs = services.page_create(name="Acme Labs")
    grant_role(User.objects.get(username="rita"), "Responders", [labs])  # a responder of both pages
    tab = logged_in_tab(browser, live_server)
    tab.goto(live_server.url + "/admin/incidents/incident/add/")
    items = tab.locator(".sp-pages li")
    assert items.count() == 2
    assert items.evaluate_all("els => els.map(el => getComputedStyle(el).listStyleType)") == ["none", "none"]
    tab.context.close()


@pytest.mark.parametrize(
    ("posted", "open_"),
    [
        ({"status": "identified", "body": ""}, False),  # an error elsewhere keeps them folded
        ({"status": "resolved", "body": ""}, True),  # resolving changes components: shown
        ({"status": "identified", "body": "", "component_X": "degraded_performance"}, True),  # a choice is shown
    ],
)
def test_the_server_opens_the_components_for_resolved_or_a_choice(client, page, responder, posted, open_):
    api = services.component_create(page=page, name="API")
    incident = services.incident_create(page=page, name="API errors", body="Looking.")
    client.force_login(responder)
    data = {key.replace("component_X", f"component_{api.code}"): value for key, value in posted.items()}
    html = BeautifulSoup(client.post(f"/admin/incidents/incident/{incident.pk}/change/", data).content, "html.parser")
    assert html.select_one("#sp-components").has_attr("open") is open_
    plain = BeautifulSoup(client.get(f"/admin/incidents/incident/{incident.pk}/change/").content, "html.parser")
    assert not plain.select_one("#sp-components").has_attr("open")


def test_the_postmortem_notify_label_ticks_its_own_box(browser, live_server, setup):
    page, incident = setup
    services.incident_post_update(incident=incident, status="resolved", body="Fixed.")
    tab = logged_in_tab(browser, live_server)
    tab.goto(live_server.url + f"/admin/incidents/incident/{incident.pk}/change/")
    post_box = tab.locator(".sp-post input[name=deliver_notifications]")
    postmortem_box = tab.locator("#postmortem input[name=deliver_notifications]")
    assert (post_box.is_checked(), postmortem_box.is_checked()) == (True, False)
    tab.locator("#postmortem label", has_text="Notify subscribers").click()
    assert (post_box.is_checked(), postmortem_box.is_checked()) == (True, True)
    tab.context.close()
