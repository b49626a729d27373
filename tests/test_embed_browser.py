"""The widget and the embed on a customer's own site (another origin) in Chromium: a notice while an incident is
open, none after; the framed status view follows."""

import functools
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.management import call_command

from incidents import services
from incidents.choices import UNRESOLVED_STATUSES
from incidents.choices import ComponentStatus as S
from incidents.management.demo_data import BEACONLY
from incidents.models import Incident
from tests.test_publishing_serving import nginx, served_root, site  # noqa: F401 - the copy, served by nginx

pytestmark = pytest.mark.browser


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def customer_site(tmp_path):
    """A plain static site on a free port of its own: another origin than the status page's live_server."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(tmp_path)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield tmp_path, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_the_widget_and_the_embed_show_an_open_incident_on_another_site_and_nothing_once_resolved(
    browser, live_server, transactional_db, customer_site
):
    root, origin = customer_site
    page = services.page_create(name="Acme Cloud", time_zone="UTC")
    api = services.component_create(page=page, name="API")
    incident = services.incident_create(
        page=page, name="Payments <b>failing</b>", body="Looking.", components={api: S.MAJOR_OUTAGE}
    )
    (root / "index.html").write_text(
        "<!doctype html><html><head><title>Shop</title><link rel='icon' href='data:,'></head><body><h1>Our shop</h1>"
        f'<script src="{live_server.url}/widget.js" data-position="top-left" data-background="rgb(1, 2, 3)"'
        ' data-refresh="0"></script>'
        f'<iframe src="{live_server.url}/embed" title="Status" width="400" height="160"></iframe></body></html>'
    )
    assert not origin.startswith(live_server.url)
    context = browser.new_context()
    tab = context.new_page()
    errors = []
    tab.on("pageerror", lambda error: errors.append(str(error)))
    tab.on("console", lambda message: message.type == "error" and errors.append(message.text))
    tab.goto(origin + "/index.html")
    tab.wait_for_selector("script[data-state='open']", state="attached", timeout=10000)
    notice = tab.locator(".statuspage-widget")
    assert notice.get_attribute("role") == "status"
    name = notice.locator(".statuspage-widget-name")
    assert name.inner_text() == "Payments <b>failing</b>"  # as text, never as markup
    assert notice.locator("b").count() == 0
    assert name.get_attribute("href") == f"{live_server.url}/incidents/{incident.code}"
    assert notice.locator(".statuspage-widget-status").inner_text() == " · Investigating"
    box = notice.bounding_box()
    assert (box["x"], box["y"]) == (16, 16)  # top-left
    assert notice.evaluate("node => getComputedStyle(node).backgroundColor") == "rgb(1, 2, 3)"
    framed = tab.frame_locator("iframe")  # Chromium refuses to show a page whose headers forbid the frame
    assert framed.locator(".embed-status").inner_text(timeout=10000) == "Major System Outage"
    assert framed.locator(".embed-open a").inner_text() == "Payments <b>failing</b>"

    services.incident_post_update(incident=incident, status="resolved", body="Fixed.", components={api: S.OPERATIONAL})
    tab.reload()
    tab.wait_for_selector("script[data-state='clear']", state="attached", timeout=10000)
    assert tab.locator(".statuspage-widget").count() == 0
    assert framed.locator(".embed-status").inner_text(timeout=10000) == "All Systems Operational"
    assert framed.locator(".embed-open").count() == 0
    assert errors == []
    context.close()


def test_the_widget_and_the_embed_work_from_the_static_copy(browser, site, nginx, customer_site):  # noqa: F811
    call_command("publish")  # from here on only nginx answers: no app server runs
    root, origin = customer_site
    still_open = Incident.objects.get(page=site.other, status__in=UNRESOLVED_STATUSES)
    (root / "index.html").write_text(
        "<!doctype html><html><head><title>Shop</title><link rel='icon' href='data:,'></head><body>"
        f'<script src="{nginx}/p/{BEACONLY}/widget.js" data-refresh="0"></script>'
        f'<iframe src="{nginx}/p/{BEACONLY}/embed" title="Status" width="400" height="160"></iframe></body></html>'
    )
    context = browser.new_context()
    tab = context.new_page()
    tab.goto(origin + "/index.html")
    tab.wait_for_selector("script[data-state='open']", state="attached", timeout=10000)
    names = tab.locator(".statuspage-widget-name")
    assert names.all_inner_texts() == [still_open.name]
    assert names.first.get_attribute("href") == f"{nginx}/p/{BEACONLY}/incidents/{still_open.code}"
    framed = tab.frame_locator("iframe")
    assert still_open.name in framed.locator(".embed-open").inner_text(timeout=10000)
    context.close()
