"""The pages behind the links in emails, in a real Chromium on a phone (390 px): the public page's look."""

import os
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from incidents import services
from notifications import services as notify
from notifications.emails import link
from notifications.models import Subscriber

pytestmark = pytest.mark.browser

SHOTS = os.environ.get("SCREENSHOT_DIR")  # set it to look at the pages
WIDTH = 390


@pytest.fixture
def pending(transactional_db):
    page = services.page_create(name="Acme Cloud")
    group = services.component_group_create(page=page, name="Delivery")
    services.component_create(page=page, name="SMS", group=group)
    services.component_create(page=page, name="API")
    return notify.subscribe(page=page, email="ann@example.com", groups=[group])


def path_of(subscriber, purpose):
    return link(subscriber, purpose).removeprefix("http://127.0.0.1:8000")


def visit(browser, live_server, path, name):
    context = browser.new_context(viewport={"width": WIDTH, "height": 844})
    tab = context.new_page()
    tab.goto(live_server.url + path)
    if SHOTS:
        tab.screenshot(path=os.path.join(SHOTS, f"link-{name}-{WIDTH}.png"), full_page=True)
    return context, tab


def assert_page_look(tab, heading):
    assert tab.evaluate("document.documentElement.scrollWidth") <= WIDTH
    assert tab.get_by_role("heading", name=heading).is_visible()
    # The public stylesheet is applied: the header band and the content column of the status page.
    header = tab.locator("header.site")
    assert header.is_visible()
    assert header.get_by_role("link", name="Acme Cloud").is_visible()
    assert tab.locator("main#main").evaluate("el => getComputedStyle(el).fontFamily") != "Times New Roman"
    assert tab.locator("main#main").get_by_role("link", name="Acme Cloud status").is_visible()


def test_the_confirm_page_lists_the_choice_in_the_page_look(browser, live_server, pending):
    context, tab = visit(browser, live_server, path_of(pending, "confirm"), "confirm")
    assert_page_look(tab, "Confirm your subscription")
    assert tab.get_by_text("Delivery (the whole group)").is_visible()
    tab.get_by_role("button", name="Confirm subscription").click()
    tab.wait_for_load_state()
    assert_page_look(tab, "Subscribed")
    context.close()


def test_after_unsubscribing_the_manage_link_says_so_and_offers_to_subscribe_again(browser, live_server, pending):
    notify.subscriber_confirm(pending, welcome=False)
    context, tab = visit(browser, live_server, path_of(pending, "unsubscribe"), "unsubscribe")
    assert_page_look(tab, "Unsubscribe")
    tab.get_by_role("button", name="Unsubscribe").click()
    tab.wait_for_load_state()
    assert_page_look(tab, "You are unsubscribed from Acme Cloud")
    assert not Subscriber.objects.exists()
    context.close()

    context, tab = visit(browser, live_server, path_of(pending, "manage"), "gone")
    assert_page_look(tab, "You are unsubscribed from Acme Cloud")
    tab.get_by_label("Email address").fill("ann@example.com")
    tab.get_by_role("button", name="Subscribe", exact=True).click()
    tab.wait_for_load_state()
    assert tab.get_by_role("heading", name="Check your inbox").is_visible()
    assert Subscriber.objects.get().email == "ann@example.com"
    context.close()


def test_an_expired_link_names_its_page_in_its_look(browser, live_server, pending):
    with time_machine.travel(timezone.now() - timedelta(days=4)):
        path = path_of(pending, "confirm")
    context, tab = visit(browser, live_server, path, "expired")
    assert_page_look(tab, "This link is invalid or has expired")
    context.close()
