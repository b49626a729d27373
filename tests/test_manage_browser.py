"""The subscriber's manage page in a real Chromium: groups cover their components, Unsubscribe asks once."""

import os

import pytest

from incidents import services
from notifications.emails import link
from notifications.models import Subscriber
from tests.notify_helpers import confirmed

pytestmark = pytest.mark.browser

SHOTS = os.environ.get("SCREENSHOT_DIR")  # set it to look at the pages


@pytest.fixture
def reader(transactional_db):
    page = services.page_create(name="Acme Cloud")
    group = services.component_group_create(page=page, name="Delivery")
    services.component_create(page=page, name="SMS", group=group)
    services.component_create(page=page, name="Email", group=group)
    services.component_create(page=page, name="API")
    return confirmed(page, "reader@example.com")


def open_manage(browser, live_server, reader, width=1280, javascript=True):
    context = browser.new_context(viewport={"width": width, "height": 900}, java_script_enabled=javascript)
    tab = context.new_page()
    assert tab.goto(live_server.url + link(reader, "manage").removeprefix("http://127.0.0.1:8000")).status == 200
    return context, tab


def shot(tab, name):
    if SHOTS:
        tab.screenshot(path=os.path.join(SHOTS, name), full_page=True)


def child(tab, name):
    return tab.get_by_role("checkbox", name=name, exact=True)


@pytest.mark.parametrize("width", [390, 1280])
def test_ticking_a_group_ticks_and_covers_its_components_and_saving_keeps_it(browser, live_server, reader, width):
    context, tab = open_manage(browser, live_server, reader, width)
    assert tab.evaluate("document.documentElement.scrollWidth") <= width
    group = tab.get_by_role("checkbox", name="Delivery (the whole group, including components added later)")
    note = tab.get_by_text("covered by the group").first
    assert not note.is_visible()
    group.check()
    assert tab.get_by_role("radio", name="Only the ones I tick:").is_checked()
    assert child(tab, "SMS").is_checked()
    assert child(tab, "SMS").is_disabled()
    assert note.is_visible()
    shot(tab, f"manage-group-ticked-{width}.png")
    group.uncheck()
    assert not child(tab, "SMS").is_checked()
    assert child(tab, "SMS").is_enabled()
    group.check()
    tab.get_by_role("button", name="Save").click()
    tab.wait_for_load_state()
    assert tab.get_by_text("Saved.").is_visible()
    assert child(tab, "Email").is_checked()
    assert child(tab, "Email").is_disabled()
    assert list(Subscriber.objects.get(pk=reader.pk).groups.values_list("name", flat=True)) == ["Delivery"]
    context.close()


def test_without_javascript_a_ticked_group_still_shows_its_components_covered(browser, live_server, reader):
    context, tab = open_manage(browser, live_server, reader, javascript=False)
    tab.get_by_role("checkbox", name="Delivery (the whole group, including components added later)").check()
    assert tab.get_by_text("covered by the group").first.is_visible()
    context.close()


@pytest.mark.parametrize("javascript", [True, False])
def test_unsubscribe_looks_different_from_save_and_asks_once(browser, live_server, reader, javascript):
    context, tab = open_manage(browser, live_server, reader, 390, javascript)
    save = tab.get_by_role("button", name="Save")
    confirm = tab.get_by_role("button", name="Yes, unsubscribe")
    assert not confirm.is_visible()  # the question comes first
    colour = "el => getComputedStyle(el).backgroundColor"
    tab.get_by_text("Unsubscribe…").click()
    assert confirm.is_visible()
    assert confirm.evaluate(colour) == "rgb(192, 38, 45)"  # --red
    assert save.evaluate(colour) != confirm.evaluate(colour)
    shot(tab, f"manage-unsubscribe-{'js' if javascript else 'nojs'}.png")
    confirm.click()
    tab.wait_for_load_state()
    assert tab.get_by_role("heading", name="Unsubscribed").is_visible()
    assert not Subscriber.objects.filter(pk=reader.pk).exists()
    context.close()
