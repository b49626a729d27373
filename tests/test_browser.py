"""The public pages in a real Chromium: phone width, no JavaScript, collapsible groups."""

from datetime import date, timedelta

import pytest
from django.utils import timezone

from incidents import services
from incidents.choices import ComponentStatus as S

pytestmark = pytest.mark.browser


@pytest.fixture
def status_page(transactional_db):
    page = services.page_create(name="Acme Cloud", time_zone="Europe/Paris")
    group = services.component_group_create(page=page, name="Delivery", description="Sending messages.")
    push = services.component_create(page=page, group=group, name="Push notifications with a rather long name")
    services.component_create(page=page, group=group, name="Email")
    services.component_create(page=page, name="API", description="REST API and webhooks.")
    incident = services.incident_create(
        page=page, name="Push notifications delayed", components={push: S.PARTIAL_OUTAGE},
        body="We are investigating.\n\n| Region | Delay |\n|---|---|\n| eu-west-with-a-long-name | 40 minutes and counting |",
    )  # fmt: skip
    return page, incident


def open_page(browser, url, width, javascript=True):
    context = browser.new_context(viewport={"width": width, "height": 800}, java_script_enabled=javascript)
    tab = context.new_page()
    response = tab.goto(url)
    assert response.status == 200
    return context, tab


@pytest.mark.parametrize("width", [390, 1280])
def test_pages_fit_the_screen_without_sideways_scrolling(browser, live_server, status_page, width):
    page, incident = status_page
    for path in ("/", f"/incidents/{incident.code}", "/history"):
        context, tab = open_page(browser, live_server.url + path, width)
        assert tab.evaluate("document.documentElement.scrollWidth") <= width, path
        context.close()


def test_groups_open_and_close_without_javascript(browser, live_server, status_page):
    context, tab = open_page(browser, live_server.url + "/", 390, javascript=False)
    group = tab.locator("li.group > details")
    email = tab.locator("section.components").get_by_text("Email", exact=True)
    # A degraded group starts open, so visitors see which child is hurting.
    assert group.get_attribute("open") is not None
    assert email.is_visible()
    tab.locator("li.group > details > summary").click()
    assert not email.is_visible()
    tab.locator("li.group > details > summary").click()
    assert email.is_visible()
    context.close()


def test_every_status_is_spelled_out_not_only_coloured(browser, live_server, status_page):
    context, tab = open_page(browser, live_server.url + "/", 1280)
    statuses = tab.locator(".component .status").all_inner_texts()
    assert "Partial Outage" in statuses
    assert "Operational" in statuses
    assert tab.locator(".incident-card").inner_text().startswith("Push notifications delayed")
    context.close()


@pytest.mark.parametrize("width", [390, 1280])
def test_the_content_starts_below_the_header_with_a_gap(browser, live_server, status_page, width):
    context, tab = open_page(browser, live_server.url + "/", width)
    gap = tab.evaluate(
        "document.querySelector('main > *').getBoundingClientRect().top"
        " - document.querySelector('header.site').getBoundingClientRect().bottom"
    )
    assert gap >= 16
    # The status line is on top, spelled out, above the open incident.
    assert tab.locator("main > *").first.inner_text() == "Partial System Outage"
    context.close()


@pytest.mark.parametrize("width", [390, 1280])
def test_the_days_with_downtime_open_by_keyboard_and_the_bar_is_drawn(browser, live_server, transactional_db, width):
    page = services.page_create(name="Acme Cloud")
    api = services.component_create(page=page, name="API", start_date=date.today() - timedelta(days=120))
    services.incident_create(
        page=page, name="API errors", body="Investigating.", components={api: S.MAJOR_OUTAGE},
        display_at=timezone.now() - timedelta(hours=2),
    )  # fmt: skip
    context, tab = open_page(browser, live_server.url + "/", width)
    days = tab.locator("details.uptime-days").filter(has_text="with an outage").first
    first_day = days.locator("li").first
    assert not first_day.is_visible()
    days.locator("summary").focus()
    tab.keyboard.press("Enter")
    assert first_day.is_visible()
    assert "outage" in first_day.inner_text() or "degraded" in first_day.inner_text()
    # The bar is painted (the patterns of the sprite resolve): its pixels are not all the background.
    bar = days.locator("xpath=ancestor::div[@class='uptime']//*[local-name()='svg']")
    shot = bar.screenshot()
    assert len(set(shot[len(shot) // 2 :])) > 8
    # At both widths the bar spans its frame: the 90 days of the figure and the list, on a phone too.
    frame = days.locator("xpath=ancestor::div[@class='uptime']").bounding_box()["width"]
    assert bar.bounding_box()["width"] == pytest.approx(frame, rel=0.02)
    context.close()
