"""The Content-Security-Policy in a real Chromium: the public pages, the admin and the API docs load and work with
no violation (Chromium reports each one on the console), and the accent colour still applies."""

import os

import pytest

from incidents import services
from incidents.choices import ComponentStatus as S
from incidents.page_services import page_update
from notifications.emails import link
from tests.notify_helpers import confirmed

pytestmark = pytest.mark.browser

SHOTS = os.environ.get("SCREENSHOT_DIR")  # set it to look at the pages


def shot(tab, name):
    if SHOTS:
        tab.screenshot(path=f"{SHOTS}/csp-{name}.png", full_page=True)


@pytest.fixture
def site(transactional_db, make_user):
    page = services.page_create(name="Acme Cloud", time_zone="Europe/Paris")
    page_update(page=page, accent_colour="#aa3300")
    group = services.component_group_create(page=page, name="Delivery")
    push = services.component_create(page=page, group=group, name="Push")
    services.component_create(page=page, name="API")
    incident = services.incident_create(
        page=page, name="Push delayed", components={push: S.PARTIAL_OUTAGE}, body="We are **investigating**."
    )
    make_user("rita", "Responders", password="rita-secret-123")
    reader = confirmed(page, "reader@example.com")
    return page, incident, reader


class Violations:
    """Every console message and page error of a tab, to assert that none is about the policy."""

    def __init__(self, tab):
        self.messages = []
        tab.on("console", lambda message: self.messages.append(f"{message.type}: {message.text}"))
        tab.on("pageerror", lambda error: self.messages.append(f"pageerror: {error}"))

    def of_policy(self):
        return [m for m in self.messages if "Content Security Policy" in m or "pageerror" in m]


def open_tab(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    tab = context.new_page()
    return context, tab, Violations(tab)


def test_the_public_pages_load_without_a_violation_in_the_accent_colour(browser, live_server, site):
    page, incident, reader = site
    context, tab, console = open_tab(browser)
    for path in ("/", f"/incidents/{incident.code}", "/history", "/uptime", "/nothing-here"):
        response = tab.goto(live_server.url + path)
        assert "script-src 'self'" in response.headers["content-security-policy"], path
        tab.wait_for_load_state("load")
        assert tab.evaluate("getComputedStyle(document.documentElement).getPropertyValue('--accent').trim()") == (
            "#aa3300"
        ), path
        shot(tab, path.strip("/").replace("/", "-") or "home")
    assert tab.evaluate("getComputedStyle(document.querySelector('main a')).color") == "rgb(170, 51, 0)"
    assert console.of_policy() == []
    context.close()


def test_the_manage_page_script_runs_under_the_policy(browser, live_server, site):
    page, incident, reader = site
    context, tab, console = open_tab(browser)
    tab.goto(live_server.url + link(reader, "manage").removeprefix("http://127.0.0.1:8000"))
    tab.wait_for_load_state("load")
    tab.check("input[name='groups']")  # manage.js ticks and locks the group's components
    push = f"input[name='components'][value='{page.components.get(name='Push').code}']"
    assert tab.is_checked(push)
    assert tab.is_disabled(push)
    assert tab.evaluate("getComputedStyle(document.querySelector('.manage .button')).backgroundColor") == (
        "rgb(170, 51, 0)"
    )  # manage.css, in the accent colour
    shot(tab, "manage")
    assert console.of_policy() == []
    context.close()


def test_the_api_docs_load_swagger_ui_without_a_violation(browser, live_server, site):
    context, tab, console = open_tab(browser)
    tab.goto(live_server.url + "/api/docs")
    tab.wait_for_selector(".swagger-ui .info .title", timeout=20000)
    assert "Status page API" in tab.inner_text(".swagger-ui .info .title")
    tab.wait_for_selector(".opblock", timeout=20000)  # the operations, from the schema it fetched
    shot(tab, "api-docs")
    assert console.of_policy() == []
    context.close()


def test_the_admin_login_and_incident_screens_load_without_a_violation(browser, live_server, site):
    page, incident, reader = site
    context, tab, console = open_tab(browser)
    response = tab.goto(live_server.url + "/admin/login/")
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    shot(tab, "admin-login")
    tab.fill("#id_username", "rita")
    tab.fill("#id_password", "rita-secret-123")
    tab.click("input[type=submit]")
    tab.wait_for_load_state("load")
    for path in ("/admin/", "/admin/incidents/incident/", "/admin/incidents/incident/add/",
                 f"/admin/incidents/incident/{incident.pk}/change/"):  # fmt: skip
        assert tab.goto(live_server.url + path).status == 200, path
        tab.wait_for_load_state("load")
    shot(tab, "admin-incident")
    assert console.of_policy() == []
    context.close()
