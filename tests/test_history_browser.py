"""/history in a real Chromium, on the demo pages' postmortems (headings, tables, lists)."""

import os

import pytest

from incidents.management.demo_data import BEACONLY, load_demo

pytestmark = pytest.mark.browser

SHOTS = os.environ.get("SCREENSHOT_DIR")


@pytest.fixture
def demo(transactional_db):
    load_demo()


@pytest.mark.parametrize("width", [390, 1280])
def test_history_excerpts_read_as_sentences_at_both_widths(browser, live_server, demo, width):
    context = browser.new_context(viewport={"width": width, "height": 900})
    tab = context.new_page()
    response = tab.goto(f"{live_server.url}/p/{BEACONLY}/history")
    assert response.status == 200
    if SHOTS:
        tab.screenshot(path=os.path.join(SHOTS, f"history-{width}.png"), full_page=True)
    excerpts = tab.locator(".history-list .excerpt").all_inner_texts()
    postmortem = next(text for text in excerpts if "six hours" in text)
    # The summary's first sentence, not "Summary For about six hours … Area Impact Push campaigns …".
    assert postmortem.startswith("For about six hours our message pipeline stopped processing work"), postmortem
    for noise in ("Summary", "|", "Area", "Push campaigns", "retry_policy"):
        assert noise not in postmortem, postmortem
    assert tab.evaluate("document.documentElement.scrollWidth") <= width
    context.close()


def test_a_too_long_search_says_so_next_to_the_field(browser, live_server, demo):
    context = browser.new_context(viewport={"width": 390, "height": 900})
    tab = context.new_page()
    response = tab.goto(f"{live_server.url}/p/{BEACONLY}/history?q=" + "x" * 300)
    assert response.status == 400
    if SHOTS:
        tab.screenshot(path=os.path.join(SHOTS, "history-too-long.png"), full_page=True)
    message = tab.get_by_role("alert")
    assert "at most 100 characters" in message.inner_text()
    assert message.is_visible()
    tab.locator("#q").fill("upgrade")  # the field takes a shorter search
    tab.locator("form.search button").click()
    assert tab.url.endswith("q=upgrade")
    assert tab.locator(".form-error").count() == 0
    context.close()
