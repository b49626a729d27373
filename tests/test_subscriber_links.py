"""The links in a subscriber's emails after they left: they say so, name the page, and offer to subscribe again.

Only a tampered or a really expired link says "invalid", and it still names its page when it can. Every link
page is in the public page's look (status/base.html) with the page's name and a way back to its status.
"""

import re
from datetime import timedelta

import pytest
import time_machine
from bs4 import BeautifulSoup
from django.core import mail
from django.utils import timezone

from incidents import services
from notifications import services as notify
from notifications.models import Subscriber, SubscriberState
from tests.notify_helpers import confirmed

pytestmark = pytest.mark.django_db(transaction=True)


def link_in(message, purpose: str) -> str:
    return re.search(rf"http://127\.0\.0\.1:8000(/subscriptions/{purpose}/\S+)", message.body).group(1)


def welcome_links(client, page, email="ann@example.com", **fields) -> dict[str, str]:
    """Subscribe and confirm through the public form; the confirm link and the welcome email's links."""
    client.post("/subscribe", {"email": email, **fields})
    confirm = link_in(mail.outbox[-1], "confirm")
    client.post(confirm)
    welcome = mail.outbox[-1]
    return {"confirm": confirm, "manage": link_in(welcome, "manage"), "unsubscribe": link_in(welcome, "unsubscribe")}


def assert_in_the_page_look(html: str, page) -> BeautifulSoup:
    """The public base: its header and stylesheet, the page's name, and a link back to its status page."""
    soup = BeautifulSoup(html, "html.parser")
    assert soup.select_one("header.site") is not None, html
    assert soup.select_one('link[rel=stylesheet][href*="status"]') is not None
    assert page.name in soup.title.get_text()
    main = soup.select_one("main#main")
    assert page.name in main.get_text(" ")
    assert main.select_one(f'a[href="{page.get_absolute_url()}"]') is not None
    return soup


def subscribe_form(soup: BeautifulSoup, page):
    form = soup.select_one(f'main form[action="{page.public_url("subscribe")}"]')
    assert form is not None, "no way to subscribe again"
    return form


@pytest.mark.parametrize("purpose", ["manage", "unsubscribe", "confirm"])
def test_after_unsubscribing_every_link_of_the_subscriber_says_so_and_offers_to_subscribe_again(client, page, purpose):
    links = welcome_links(client, page)
    assert client.post(links["unsubscribe"]).status_code == 200
    assert not Subscriber.objects.exists()

    for method in (client.get, client.post):
        response = method(links[purpose])
        assert response.status_code == 200
        html = response.content.decode()
        assert "You are unsubscribed from Acme Cloud" in html
        assert "invalid" not in html
        soup = assert_in_the_page_look(html, page)
        subscribe_form(soup, page)
    assert not Subscriber.objects.exists()  # nothing came back by itself


def test_the_one_click_unsubscribe_answer_is_the_same_page(client, page):
    links = welcome_links(client, page)
    response = client.post(links["unsubscribe"], {"List-Unsubscribe": "One-Click"})
    html = response.content.decode()
    assert "You are unsubscribed from Acme Cloud" in html
    soup = assert_in_the_page_look(html, page)
    assert "ann@example.com will get no more emails from us" in soup.main.get_text()
    subscribe_form(soup, page)


def test_subscribing_again_from_that_page_restarts_the_double_opt_in(client, page):
    links = welcome_links(client, page)
    client.post(links["manage"], {"action": "unsubscribe"})
    form = subscribe_form(BeautifulSoup(client.get(links["manage"]).content.decode(), "html.parser"), page)
    mail.outbox.clear()
    assert client.post(form["action"], {"email": "ann@example.com", "scope": "all"}).status_code == 200
    (confirmation,) = mail.outbox
    assert confirmation.subject == "[Acme Cloud] Confirm your subscription"
    assert Subscriber.objects.get().state == SubscriberState.PENDING


def test_a_quarantined_subscriber_is_told_they_are_unsubscribed_and_can_subscribe_again_in_one_click(client, page):
    delivery = services.component_group_create(page=page, name="Delivery")
    services.component_create(page=page, name="SMS", group=delivery)
    api = services.component_create(page=page, name="API")
    links = welcome_links(client, page, scope="chosen", groups=[delivery.code], components=[api.code])
    subscriber = Subscriber.objects.get()
    notify.subscriber_quarantine(subscriber.pk, "550 mailbox unavailable")

    for purpose in ("manage", "unsubscribe"):
        response = client.get(links[purpose])
        assert response.status_code == 200
        html = response.content.decode()
        assert "You are unsubscribed from Acme Cloud" in html
        assert "refused" in html
        form = subscribe_form(assert_in_the_page_look(html, page), page)
        # One click: the address and the choice are already there.
        assert form.select_one('input[name="email"]')["value"] == "ann@example.com"
        assert form.select_one('input[name="scope"][value="chosen"]').has_attr("checked")
        assert form.select_one(f'input[name="groups"][value="{delivery.code}"]').has_attr("checked")
        assert form.select_one(f'input[name="components"][value="{api.code}"]').has_attr("checked")

    mail.outbox.clear()
    client.post(page.public_url("subscribe"), {"email": "ann@example.com", "scope": "chosen",
                                              "groups": [delivery.code], "components": [api.code]})  # fmt: skip
    (confirmation,) = mail.outbox
    assert confirmation.subject == "[Acme Cloud] Confirm your subscription"
    subscriber.refresh_from_db()
    assert subscriber.state == SubscriberState.PENDING
    client.post(link_in(confirmation, "confirm"))
    subscriber.refresh_from_db()
    assert subscriber.state == SubscriberState.CONFIRMED
    assert list(subscriber.groups.all()) == [delivery]
    assert mail.outbox[-1].subject == "[Acme Cloud] You are subscribed"  # a welcome again


def test_the_one_click_unsubscribe_of_a_quarantined_subscriber_forgets_the_address(client, page):
    links = welcome_links(client, page)
    notify.subscriber_quarantine(Subscriber.objects.get().pk, "550 mailbox unavailable")
    assert client.post(links["unsubscribe"]).status_code == 200
    assert not Subscriber.objects.exists()


def test_a_tampered_link_is_invalid(client, page):
    links = welcome_links(client, page)
    for purpose, path in links.items():
        response = client.get(path[:-3] + ("abc" if not path.endswith("abc") else "xyz"))
        assert response.status_code == 400, purpose
        assert "invalid or has expired" in response.content.decode()


@pytest.mark.parametrize("unsubscribed", [False, True])
def test_an_expired_link_is_invalid_but_names_its_page_and_links_to_it(client, page, unsubscribed):
    other = services.page_create(name="Beacon")
    client.post(other.public_url("subscribe"), {"email": "ann@example.com"})
    confirm = link_in(mail.outbox[-1], "confirm")
    if unsubscribed:
        Subscriber.objects.all().delete()
    with time_machine.travel(timezone.now() + timedelta(days=4)):
        response = client.get(confirm)
    assert response.status_code == 400
    html = response.content.decode()
    assert "invalid or has expired" in html
    soup = assert_in_the_page_look(html, other)
    subscribe_form(soup, other)


def test_the_link_pages_are_in_the_page_look_with_its_name_and_a_way_back(client, page):
    client.post("/subscribe", {"email": "ann@example.com"})
    confirm = link_in(mail.outbox[-1], "confirm")
    assert_in_the_page_look(client.get(confirm).content.decode(), page)  # the confirm button
    assert_in_the_page_look(client.post(confirm).content.decode(), page)  # "Subscribed"
    reader = confirmed(page, "reader@example.com")
    from notifications.emails import link

    for purpose in ("manage", "unsubscribe"):
        path = link(reader, purpose).removeprefix("http://127.0.0.1:8000")
        assert_in_the_page_look(client.get(path).content.decode(), page)


def test_links_made_before_tokens_named_their_page_still_work(client, page):
    from django.core import signing

    reader = confirmed(page, "reader@example.com")
    old = {
        purpose: signing.dumps(reader.code, salt=f"notifications.{purpose}") for purpose in ("manage", "unsubscribe")
    }
    assert "Your subscription" in client.get(f"/subscriptions/manage/{old['manage']}").content.decode()
    assert client.post(f"/subscriptions/unsubscribe/{old['unsubscribe']}").status_code == 200
    assert not Subscriber.objects.exists()
    response = client.get(f"/subscriptions/manage/{old['manage']}")  # the page is not known any more
    assert response.status_code == 200
    assert "You are unsubscribed" in response.content.decode()
