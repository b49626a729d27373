"""The subscriber's path: confirming, the welcome email, a used link, maintenance emails, the manage page.

Emails go over SMTP to a real server (the `smtp` sink) through the Celery tasks (in-process here), and are
read as they arrive.
"""

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from incidents import services
from incidents.choices import ComponentStatus as S
from incidents.services.maintenance import maintenance_complete, maintenance_create, maintenance_start
from notifications import services as notify
from notifications import tasks
from notifications.models import EmailKind, Subscriber, SubscriberEmail, SubscriberState
from tests.notify_helpers import assert_email_contains, confirmed, html_part, text_part

pytestmark = pytest.mark.django_db(transaction=True)


def link_in(message, purpose: str) -> str:
    return re.search(rf"http://127\.0\.0\.1:8000(/subscriptions/{purpose}/\S+)", text_part(message)).group(1)


def show(message) -> None:
    """Print an email as it arrived (pytest -s shows it), to read it as the subscriber does."""
    print(f"\n===== {message['Subject']} → {message['To']}\n{text_part(message)}")


def subscribe_and_confirm(smtp, client, page, **fields) -> tuple[str, object]:
    client.post("/subscribe", {"email": "ann@example.com", **fields})
    (confirmation,) = smtp.wait_for(1)
    path = link_in(confirmation, "confirm")
    return path, client.post(path)


# -- 12. welcome email, the "Subscribed" page, a used confirmation link ----------------------------------------


def test_a_confirmed_subscriber_gets_one_welcome_email_with_the_manage_and_unsubscribe_links(smtp, page):
    client = Client()
    path, response = subscribe_and_confirm(smtp, client, page)
    assert response.status_code == 200
    confirmation, welcome = smtp.wait_for(2)
    show(welcome)
    assert welcome["To"] == "ann@example.com"
    assert welcome["Subject"] == "[Acme Cloud] You are subscribed"
    assert welcome["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert_email_contains(welcome, "all Acme Cloud status updates", "Manage your subscription", "Unsubscribe")
    manage = link_in(welcome, "manage")
    assert "Your subscription" in client.get(manage).content.decode()
    assert link_in(welcome, "unsubscribe") in welcome["List-Unsubscribe"]

    # A second click, a double submit, or the task run again: one welcome, ever.
    client.post(path)
    tasks.send_subscriber_email(SubscriberEmail.objects.get(kind=EmailKind.WELCOME).pk)
    assert len(smtp.messages) == 2


@pytest.mark.usefixtures("outbox_worker")
def test_through_a_real_worker_the_confirmation_and_then_the_welcome_arrive_once_each(smtp, page):
    _, response = subscribe_and_confirm(smtp, Client(), page)
    assert response.status_code == 200
    confirmation, welcome = smtp.wait_for(2)
    assert [confirmation["Subject"], welcome["Subject"]] == [
        "[Acme Cloud] Confirm your subscription",
        "[Acme Cloud] You are subscribed",
    ]


def test_the_welcome_email_names_the_chosen_components_and_groups(smtp, page):
    group = services.component_group_create(page=page, name="Delivery")
    services.component_create(page=page, name="SMS", group=group)
    api = services.component_create(page=page, name="API")
    subscribe_and_confirm(smtp, Client(), page, scope="chosen", groups=[group.code], components=[api.code])
    welcome = smtp.wait_for(2)[1]
    show(welcome)
    assert_email_contains(welcome, "Delivery (the whole group)", "API")


def test_an_imported_subscriber_gets_no_welcome_email(smtp, page):
    confirmed(page, "imported@example.com")
    assert smtp.messages == []


def test_the_subscribed_page_says_how_to_manage_or_leave(smtp, page):
    client = Client()
    _, response = subscribe_and_confirm(smtp, client, page)
    html = response.content.decode()
    assert "Subscribed" in html
    assert "Manage your subscription" in html
    manage = re.search(r'href="(/subscriptions/manage/[^"]+)"', html).group(1)
    assert client.get(manage).status_code == 200
    assert "unsubscribe" in html.lower()


def test_a_used_confirmation_link_says_already_confirmed(smtp, page):
    client = Client()
    path, _ = subscribe_and_confirm(smtp, client, page)
    for response in (client.get(path), client.post(path)):
        assert response.status_code == 200
        html = response.content.decode()
        assert "already confirmed" in html
        assert "Confirm subscription" not in html
        assert re.search(r'href="/subscriptions/manage/[^"]+"', html)
    assert Subscriber.objects.get().state == SubscriberState.CONFIRMED


def test_two_confirmations_at_once_confirm_once_and_queue_one_welcome(page):
    subscriber = notify.subscribe(page=page, email="ann@example.com")
    stale = Subscriber.objects.get(pk=subscriber.pk)  # both requests read "pending"
    assert notify.subscriber_confirm(subscriber) is True
    assert notify.subscriber_confirm(stale) is False
    assert list(SubscriberEmail.objects.filter(kind=EmailKind.WELCOME).values_list("subscriber", flat=True)) == [
        subscriber.pk
    ]


# -- 13. maintenance emails ------------------------------------------------------------------------------------


def test_maintenance_emails_list_only_its_components_and_link_to_the_maintenance(smtp, page):
    database = services.component_create(page=page, name="Database")
    api = services.component_create(page=page, name="API")
    group = services.component_group_create(page=page, name="Delivery")
    sms = services.component_create(page=page, name="SMS", group=group)
    services.component_create(page=page, name="Email", group=group)
    services.incident_create(
        page=page, name="SMS delays", body="Looking.", components={sms: S.PARTIAL_OUTAGE, api: S.DEGRADED_PERFORMANCE}
    )
    confirmed(page, "ops@example.com")
    start = timezone.now() + timedelta(hours=2)
    maintenance = maintenance_create(
        page=page, name="Database upgrade", body="We will upgrade the database.",
        scheduled_for=start, scheduled_until=start + timedelta(hours=1), components=[database],
    )  # fmt: skip
    maintenance_start(maintenance=maintenance)
    maintenance_complete(maintenance=maintenance)
    emails = [m for m in smtp.wait_for(3) if "Database upgrade" in m["Subject"]]
    assert [m["Subject"] for m in emails] == [
        "[Acme Cloud] Database upgrade: Scheduled",
        "[Acme Cloud] Database upgrade: In progress",
        "[Acme Cloud] Database upgrade: Completed",
    ]
    for message in emails:
        show(message)
        assert_email_contains(message, "View the maintenance", "Components in this maintenance", "Database")
        for part in (text_part(message), html_part(message)):
            assert "incident" not in part.lower().replace("/incidents/", "")
            for other in ("API", "SMS", "Email", "Delivery"):
                assert other not in part


# -- 14. the manage page: groups cover their components; Unsubscribe asks once ---------------------------------


@pytest.fixture
def delivery(page):
    group = services.component_group_create(page=page, name="Delivery")
    sms = services.component_create(page=page, name="SMS", group=group)
    email = services.component_create(page=page, name="Email", group=group)
    api = services.component_create(page=page, name="API")
    return group, sms, email, api


def manage_path(subscriber) -> str:
    from notifications.emails import link

    return link(subscriber, "manage").removeprefix("http://127.0.0.1:8000")


def boxes(html: str) -> dict[str, dict]:
    from bs4 import BeautifulSoup

    form = BeautifulSoup(html, "html.parser").select_one("form.manage-scope")
    return {
        box["value"]: {"checked": box.has_attr("checked"), "disabled": box.has_attr("disabled")}
        for box in form.select('input[type="checkbox"]')
    }


def test_a_ticked_group_shows_its_components_ticked_and_covered(client, page, delivery):
    group, sms, email, api = delivery
    reader = confirmed(page, "reader@example.com", groups=[group])
    html = client.get(manage_path(reader)).content.decode()
    shown = boxes(html)
    assert shown[group.code] == {"checked": True, "disabled": False}
    assert shown[sms.code] == shown[email.code] == {"checked": True, "disabled": True}
    assert shown[api.code] == {"checked": False, "disabled": False}
    assert html.count("covered by the group") == 2


def test_saving_a_group_saves_the_group_not_its_components_and_it_is_what_is_sent(smtp, page, delivery):
    group, sms, email, api = delivery
    reader = confirmed(page, "reader@example.com", components=[api])
    client = Client()
    path = manage_path(reader)
    response = client.post(path, {"action": "update", "scope": "chosen", "groups": [group.code],
                                  "components": [sms.code, api.code]})  # fmt: skip
    assert response.status_code == 200
    assert "Saved" in response.content.decode()
    assert boxes(response.content.decode())[email.code] == {"checked": True, "disabled": True}
    reader.refresh_from_db()
    assert (reader.all_components, list(reader.groups.all()), list(reader.components.all())) == (False, [group], [api])

    later = services.component_create(page=page, name="WhatsApp", group=group)
    services.incident_create(page=page, name="WhatsApp down", body="Looking.", components={later: S.MAJOR_OUTAGE})
    (message,) = smtp.wait_for(1)
    assert message["To"] == "reader@example.com"


def test_only_these_with_none_ticked_is_an_error_and_changes_nothing(client, page, delivery):
    group, sms, email, api = delivery
    reader = confirmed(page, "reader@example.com", components=[api])
    response = client.post(manage_path(reader), {"action": "update", "scope": "chosen"})
    assert response.status_code == 400
    assert "Tick at least one component or group" in response.content.decode()
    reader.refresh_from_db()
    assert (reader.all_components, list(reader.components.all())) == (False, [api])


def test_unsubscribe_is_a_separate_danger_form_behind_one_question(client, page, delivery):
    from bs4 import BeautifulSoup

    reader = confirmed(page, "reader@example.com")
    path = manage_path(reader)
    soup = BeautifulSoup(client.get(path).content.decode(), "html.parser")
    save = soup.select_one("form.manage-scope button[type=submit]")
    assert save.get_text(strip=True) == "Save"
    leave = soup.select_one("details.leave")
    assert leave is not None
    assert not leave.has_attr("open")
    assert leave.summary.get_text(strip=True) == "Unsubscribe…"
    button = leave.select_one("form button[type=submit]")
    assert "button-danger" in button["class"]
    assert button.get_text(strip=True) == "Yes, unsubscribe"
    assert button.find_parent("form") is not save.find_parent("form")
    assert client.post(path, {"action": "unsubscribe"}).status_code == 200
    assert not Subscriber.objects.filter(pk=reader.pk).exists()


# -- the confirm step says what was chosen ----------------------------------------------------------------------


def test_the_confirmation_email_and_page_say_all_components_when_nothing_was_chosen(smtp, page):
    client = Client()
    client.post("/subscribe", {"email": "ann@example.com", "scope": "all"})
    (confirmation,) = smtp.wait_for(1)
    show(confirmation)
    assert_email_contains(confirmation, "all Acme Cloud status updates, for all components")
    html = client.get(link_in(confirmation, "confirm")).content.decode()
    assert "all Acme Cloud status updates, for all components" in html


def test_the_confirmation_email_and_page_list_the_chosen_groups_and_components_in_page_order(smtp, page):
    api = services.component_create(page=page, name="API")
    group = services.component_group_create(page=page, name="Delivery")
    services.component_create(page=page, name="SMS", group=group)
    voice = services.component_group_create(page=page, name="Voice")
    calls = services.component_create(page=page, name="Calls", group=voice)
    services.component_create(page=page, name="Website")
    client = Client()
    client.post("/subscribe", {"email": "ann@example.com", "scope": "chosen",
                               "components": [calls.code, api.code], "groups": [group.code]})  # fmt: skip
    (confirmation,) = smtp.wait_for(1)
    show(confirmation)
    chosen = ["API", "Delivery (the whole group)", "Voice › Calls"]
    assert_email_contains(confirmation, *chosen)
    for part in (text_part(confirmation), html_part(confirmation)):
        assert [part.index(name) for name in chosen] == sorted(part.index(name) for name in chosen)
        assert "Website" not in part
        assert "all components" not in part
    html = client.get(link_in(confirmation, "confirm")).content.decode()
    assert [html.index(name) for name in chosen] == sorted(html.index(name) for name in chosen)
    assert "Website" not in html.split("<main", 1)[1]


def test_an_incident_confirmation_names_the_incident_only(smtp, page):
    api = services.component_create(page=page, name="API")
    incident = services.incident_create(page=page, name="Slow API", body="Looking.", components={api: S.MAJOR_OUTAGE})
    smtp.messages.clear()
    client = Client()
    client.post("/subscribe", {"email": "ann@example.com", "incident": incident.code})
    (confirmation,) = smtp.wait_for(1)
    assert_email_contains(confirmation, "each update of", "Slow API", "until it is resolved")
    html = client.get(link_in(confirmation, "confirm")).content.decode()
    assert "until it is resolved" in html
