"""The subscribe form on the public page: folded behind "Subscribe to updates", and it never widens a choice."""

import pytest
from bs4 import BeautifulSoup
from django.core import mail

from incidents import services
from notifications.models import Subscriber

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def components(page):
    group = services.component_group_create(page=page, name="Delivery")
    email = services.component_create(page=page, name="Email", group=group)
    api = services.component_create(page=page, name="API")
    return group, email, api


def html_of(response, status):
    assert response.status_code == status, response.status_code
    return BeautifulSoup(response.content, "html.parser")


def test_the_form_sits_behind_a_subscribe_to_updates_control(client, components):
    html = html_of(client.get("/"), 200)
    details = html.select_one("section.subscribe details")
    assert " ".join(details.select_one("summary").get_text().split()) == "Subscribe to updates"
    assert details.get("open") is None  # folded until asked for
    assert details.select_one("form input[name='email']") is not None


def test_ticking_a_component_chooses_only_these_even_with_all_components_selected(client, components):
    _group, email, _api = components
    client.post("/subscribe", {"email": "ann@example.com", "scope": "all", "components": [email.code]})
    subscriber = Subscriber.objects.get(email="ann@example.com")
    assert subscriber.all_components is False
    assert list(subscriber.components.all()) == [email]


def test_ticking_a_group_chooses_only_that_group(client, components):
    group, _email, _api = components
    client.post("/subscribe", {"email": "ann@example.com", "groups": [group.code]})
    subscriber = Subscriber.objects.get(email="ann@example.com")
    assert (subscriber.all_components, list(subscriber.groups.all())) == (False, [group])


def test_only_these_with_none_ticked_is_an_error_that_keeps_the_address(client, components):
    html = html_of(client.post("/subscribe", {"email": "Ann@Example.com", "scope": "chosen"}), 400)
    assert "ticked none" in html.select_one(".form-errors").get_text()
    form = html.select_one("section.subscribe details[open] form")
    assert form.select_one("input[name='email']")["value"] == "Ann@Example.com"
    assert form.select_one("input[name='scope'][value='chosen']").has_attr("checked")
    assert not Subscriber.objects.exists()
    assert mail.outbox == []
    assert len(html.find_all("h1")) == 1


def test_a_bad_address_keeps_the_ticks(client, components):
    _group, email, api = components
    html = html_of(client.post("/subscribe", {"email": "not-an-address", "components": [api.code]}), 400)
    assert "does not look like an email address" in html.select_one(".form-errors").get_text()
    assert html.select_one(f"input[value='{api.code}']").has_attr("checked")
    assert not html.select_one(f"input[value='{email.code}']").has_attr("checked")
    assert html.select_one("input[name='email']")["value"] == "not-an-address"
    assert not Subscriber.objects.exists()


def test_all_components_with_nothing_ticked_still_means_all(client, components):
    client.post("/subscribe", {"email": "ann@example.com", "scope": "all"})
    assert Subscriber.objects.get(email="ann@example.com").all_components is True


@pytest.mark.browser
def test_the_folded_form_opens_without_javascript_and_looks_like_the_page(browser, live_server, components):
    context = browser.new_context(viewport={"width": 390, "height": 800}, java_script_enabled=False)
    tab = context.new_page()
    tab.goto(live_server.url + "/")
    address = tab.locator("section.subscribe input[name='email']")
    assert not address.is_visible()
    tab.locator("section.subscribe summary").click()
    assert address.is_visible()
    look = "e => [getComputedStyle(e).backgroundColor, getComputedStyle(e).borderTopWidth, getComputedStyle(e).borderRadius]"
    assert tab.locator("section.subscribe").evaluate(look) == tab.locator("section.components").evaluate(look)
    assert tab.evaluate("document.documentElement.scrollWidth") <= 390
    context.close()
