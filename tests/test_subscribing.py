"""Subscribing: the form on the public pages, double opt-in, manage, unsubscribe, incident subscriptions.

Tasks run in-process here and emails land in Django's test outbox.
"""

import re
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from incidents import services
from incidents.choices import ComponentStatus as S
from incidents.choices import IncidentStatus
from notifications.models import Subscriber, SubscriberState
from tests.notify_helpers import assert_email_contains, confirmed, recipients_of

# Real commits, so that the after-commit hooks (fan-out, confirmation emails) run as they do in production.
pytestmark = pytest.mark.django_db(transaction=True)


def link_in(message, purpose: str) -> str:
    return re.search(rf"http://127\.0\.0\.1:8000(/subscriptions/{purpose}/\S+)", message.body).group(1)


def subscribe(client, email="ann@example.com", path="/subscribe", real_ip=None, **fields):
    headers = {"HTTP_X_REAL_IP": real_ip} if real_ip else {}
    return client.post(path, {"email": email, **fields}, **headers)


def test_every_public_page_has_a_subscribe_form_without_csrf_token_or_cookie(client, page, make_component):
    make_component("API")
    response = client.get("/")
    html = response.content.decode()
    assert 'action="/subscribe"' in html
    assert "csrfmiddlewaretoken" not in html
    assert not response.cookies


def test_a_second_page_posts_its_form_to_its_own_address_and_the_answer_sets_no_cookie(client, page):
    other = services.page_create(name="Beacon")
    assert f'action="/p/{other.code}/subscribe"' in client.get(f"/p/{other.code}/").content.decode()
    response = subscribe(client, path=f"/p/{other.code}/subscribe")
    assert response.status_code == 200
    assert not response.cookies
    assert "no-cache" in response["Cache-Control"]
    assert Subscriber.objects.get().page == other


def test_an_open_incident_page_offers_to_subscribe_to_that_incident_only_until_resolved(client, page, make_component):
    api = make_component("API")
    incident = services.incident_create(page=page, name="Down", body="Looking.", components={api: S.MAJOR_OUTAGE})
    assert f'name="incident" value="{incident.code}"' in client.get(f"/incidents/{incident.code}").content.decode()
    services.incident_post_update(incident=incident, body="Fixed.", status=IncidentStatus.RESOLVED)
    assert 'name="incident"' not in client.get(f"/incidents/{incident.code}").content.decode()


def test_subscribing_sends_a_confirmation_whose_link_shows_a_button_and_confirms_on_post(client, page):
    response = subscribe(client)
    assert response.status_code == 200
    assert "Check your inbox" in response.content.decode()
    (message,) = mail.outbox
    assert message.subject == "[Acme Cloud] Confirm your subscription"
    assert_email_contains(message, "/subscriptions/confirm/")

    path = link_in(message, "confirm")
    page_html = client.get(path).content.decode()
    assert "Confirm subscription" in page_html
    assert Subscriber.objects.get().state == SubscriberState.PENDING  # a mail scanner's GET confirms nothing

    assert client.post(path).status_code == 200
    assert Subscriber.objects.get().state == SubscriberState.CONFIRMED


def test_nobody_is_notified_before_confirming(client, page, make_component):
    api = make_component("API")
    subscribe(client, "pending@example.com")
    confirmed(page, "confirmed@example.com")
    mail.outbox.clear()
    services.incident_create(page=page, name="Down", body="Looking.", components={api: S.MAJOR_OUTAGE})
    assert recipients_of(mail.outbox) == ["confirmed@example.com"]


def test_the_answer_is_the_same_for_new_pending_and_subscribed_addresses(client, page):
    confirmed(page, "known@example.com")
    answers = {
        subscribe(client, email).content for email in ("new@example.com", "new@example.com", "known@example.com")
    }
    normalised = {re.sub(rb"\S+@example\.com", b"ADDRESS", answer) for answer in answers}
    assert len(normalised) == 1


def test_a_pending_address_gets_at_most_one_confirmation_per_ten_minutes(client, page):
    with time_machine.travel(timezone.now(), tick=False) as clock:
        subscribe(client)
        subscribe(client)
        assert len(mail.outbox) == 1
        clock.shift(timedelta(minutes=9))
        subscribe(client)
        assert len(mail.outbox) == 1
        clock.shift(timedelta(minutes=2))
        subscribe(client)
        assert len(mail.outbox) == 2


def test_a_confirmation_link_expires(client, page):
    subscribe(client)
    path = link_in(mail.outbox[0], "confirm")
    with time_machine.travel(timezone.now() + timedelta(days=4)):
        response = client.post(path)
    assert response.status_code == 400
    assert "expired" in response.content.decode()
    assert Subscriber.objects.get().state == SubscriberState.PENDING


def test_subscribe_requests_are_rate_limited_per_address_with_a_clear_message(client, page, settings):
    settings.NOTIFICATIONS_SUBSCRIBE_LIMIT_PER_ADDRESS = (3, 3600)
    for _ in range(3):
        assert subscribe(client, "eager@example.com").status_code == 200
    response = subscribe(client, "eager@example.com")
    assert response.status_code == 429
    assert "Too many subscription requests" in response.content.decode()


def test_subscribe_requests_are_rate_limited_per_ip(client, page, settings):
    settings.NOTIFICATIONS_SUBSCRIBE_LIMIT_PER_IP = (2, 3600)
    assert subscribe(client, "a@example.com").status_code == 200
    assert subscribe(client, "b@example.com").status_code == 200
    assert subscribe(client, "c@example.com").status_code == 429


def test_behind_a_proxy_the_per_ip_limit_counts_the_client_address_from_the_configured_header(client, page, settings):
    settings.NOTIFICATIONS_SUBSCRIBE_LIMIT_PER_IP = (1, 3600)
    settings.CLIENT_IP_HEADER = "X-Real-IP"
    assert subscribe(client, "a@example.com", real_ip="203.0.113.1").status_code == 200
    assert subscribe(client, "b@example.com", real_ip="203.0.113.2").status_code == 200
    assert subscribe(client, "c@example.com", real_ip="203.0.113.1").status_code == 429


def test_choosing_a_group_means_all_its_components_including_ones_added_later(client, page):
    group = services.component_group_create(page=page, name="API")
    services.component_create(page=page, name="REST", group=group)
    subscribe(client, scope="chosen", groups=[group.code])
    client.post(link_in(mail.outbox[0], "confirm"))
    mail.outbox.clear()

    later = services.component_create(page=page, name="GraphQL", group=group)
    services.incident_create(page=page, name="GraphQL down", body="Looking.", components={later: S.MAJOR_OUTAGE})
    assert recipients_of(mail.outbox) == ["ann@example.com"]


def test_the_manage_page_changes_components_and_unsubscribes(client, page, make_component):
    api, web = make_component("API"), make_component("Website")
    reader = confirmed(page, "reader@example.com")
    incident = services.incident_create(page=page, name="Down", body="Looking.", components={api: S.MAJOR_OUTAGE})
    path = link_in(mail.outbox[-1], "manage")
    assert "All components" in client.get(path).content.decode()

    client.post(path, {"action": "update", "scope": "chosen", "components": [web.code]})
    reader.refresh_from_db()
    assert not reader.all_components
    assert list(reader.components.all()) == [web]
    mail.outbox.clear()
    services.incident_post_update(incident=incident, body="Still looking.")
    assert mail.outbox == []

    client.post(path, {"action": "unsubscribe"})
    assert not Subscriber.objects.filter(pk=reader.pk).exists()


def test_the_unsubscribe_link_shows_a_confirmation_on_get_and_unsubscribes_on_post(client, page, make_component):
    api = make_component("API")
    reader = confirmed(page, "reader@example.com")
    services.incident_create(page=page, name="Down", body="Looking.", components={api: S.MAJOR_OUTAGE})
    path = link_in(mail.outbox[-1], "unsubscribe")
    assert "Stop sending" in client.get(path).content.decode()
    assert Subscriber.objects.filter(pk=reader.pk).exists()
    assert client.post(path).status_code == 200
    assert not Subscriber.objects.filter(pk=reader.pk).exists()
    assert client.post(path).status_code == 200  # a second click is harmless


def test_an_incident_subscription_gets_that_incident_until_it_is_resolved(client, page, make_component):
    api = make_component("API")
    incident = services.incident_create(page=page, name="Down", body="Looking.", components={api: S.MAJOR_OUTAGE})
    other = services.incident_create(page=page, name="Other", body="Unrelated.", components={api: S.MAJOR_OUTAGE})
    subscribe(client, "watcher@example.com", incident=incident.code)
    client.post(link_in(mail.outbox[-1], "confirm"))
    mail.outbox.clear()

    services.incident_post_update(incident=other, body="Unrelated news.")
    services.incident_post_update(incident=incident, body="Found it.", status=IncidentStatus.IDENTIFIED)
    services.incident_post_update(incident=incident, body="Fixed.", status=IncidentStatus.RESOLVED)
    services.incident_post_update(incident=incident, body="A postmortem.", status=IncidentStatus.POSTMORTEM)
    assert [m.subject for m in mail.outbox] == ["[Acme Cloud] Down: Identified", "[Acme Cloud] Down: Resolved"]


def test_an_update_posted_without_notify_sends_nothing(page, make_component):
    api = make_component("API")
    confirmed(page, "reader@example.com")
    services.incident_create(
        page=page, name="Quiet", body="Shh.", components={api: S.MAJOR_OUTAGE}, deliver_notifications=False
    )
    assert mail.outbox == []


def test_the_email_shows_stage_body_components_times_in_the_page_zone_and_why_it_was_sent(make_component):
    paris = services.page_create(name="Beacon", time_zone="Europe/Paris")
    api = services.component_create(page=paris, name="API")
    confirmed(paris, "reader@example.com")
    at = timezone.now().replace(month=1, day=15, hour=9, minute=5, second=0, microsecond=0)
    if at > timezone.now():
        at = at.replace(year=at.year - 1)
    services.incident_create(
        page=paris, name="Slow API", body="We are **looking**.", components={api: S.DEGRADED_PERFORMANCE}, display_at=at
    )
    (message,) = mail.outbox
    assert message.subject == "[Beacon] Slow API: Investigating"
    assert_email_contains(message, "Investigating", "10:05 CET", "API", "Degraded Performance",
                          "you subscribed to all Beacon status updates", "Unsubscribe")  # fmt: skip
    assert "<strong>looking</strong>" in message.alternatives[0][0]


def test_an_address_subscribed_to_the_page_and_to_the_incident_gets_each_update_once(client, page, make_component):
    api = make_component("API")
    incident = services.incident_create(page=page, name="Down", body="Looking.", components={api: S.MAJOR_OUTAGE})
    confirmed(page, "both@example.com")
    confirmed(page, "both@example.com", incident=incident)
    mail.outbox.clear()
    services.incident_post_update(incident=incident, body="Found it.", status=IncidentStatus.IDENTIFIED)
    assert recipients_of(mail.outbox) == ["both@example.com"]
