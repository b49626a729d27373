"""Webhook subscribers: Statuspage's payloads, signed, through the same outbox, to a real local HTTP receiver.

WEBHOOK_ALLOWED_NETWORKS=127.0.0.0/8 lets the tests reach loopback past the SSRF guard.
"""

import json
import time
from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db.models.functions import Now

from incidents import services
from incidents.choices import ComponentStatus as S
from incidents.choices import IncidentStatus
from notifications import sending
from notifications import services as notify
from notifications.endpoint_subscribers import subscribe_endpoint
from notifications.endpoints import EndpointRefused, resolve
from notifications.models import Delivery, DeliveryStatus, Subscriber, SubscriberState
from notifications.webhook_payloads import SIGNATURE_HEADER, verify
from tests.notify_helpers import confirmed
from tests.webhook_receiver import start_receiver


@pytest.fixture
def receiver(settings):
    settings.WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    settings.WEBHOOK_TIMEOUT = 1
    # Retries wait (eager tasks run at once, but a row is not claimed before its time): retry_due() runs them.
    settings.NOTIFICATIONS_RETRY_BASE_SECONDS = 60
    server = start_receiver()
    yield server
    server.server.shutdown()
    server.server.server_close()


def webhook(page, url, components=()):
    subscriber, secret = subscribe_endpoint(
        page=page, channel="webhook", endpoint=url, email="ops@example.com", components=components, confirmed=True
    )
    return subscriber, secret


def retry_due():
    """Run the retries now (eager tasks ignore their countdown; the rows' next_attempt_at is what counts)."""
    ids = list(Delivery.objects.filter(status=DeliveryStatus.QUEUED).values_list("pk", flat=True))
    Delivery.objects.filter(pk__in=ids).update(next_attempt_at=Now())
    sending.send_chunk(ids)


def test_every_event_reaches_every_matching_endpoint_once_signed_and_newest_update_first(
    page, make_component, receiver, django_capture_on_commit_callbacks
):
    api, web = make_component("API"), make_component("Web")
    everything, everything_secret = webhook(page, receiver.url("/all"))
    only_api, api_secret = webhook(page, receiver.url("/api"), components=[api])
    webhook(page, receiver.url("/web"), components=[web])
    confirmed(page, "reader@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        incident = services.incident_create(page=page, name="Errors", body="Looking.", components={api: S.MAJOR_OUTAGE})
    with django_capture_on_commit_callbacks(execute=True):
        services.incident_post_update(incident=incident, status=IncidentStatus.IDENTIFIED, body="**Found** it.")
    with django_capture_on_commit_callbacks(execute=True):
        services.component_set_status(component=web, status=S.DEGRADED_PERFORMANCE)

    all_bodies = [json.loads(b) for b in receiver.bodies("/all")]
    # Two incident events (the create's component change rides on its incident event) and one component event.
    kinds = ["incident" if "incident" in b else "component" for b in all_bodies]
    assert sorted(kinds) == ["component", "component", "incident", "incident"]
    incident_events = [b for b in all_bodies if "incident" in b]
    assert [e["incident"]["incident_updates"][0]["body"] for e in incident_events] == ["Looking.", "**Found** it."]
    assert [u["status"] for u in incident_events[1]["incident"]["incident_updates"]] == ["identified", "investigating"]
    # The API-only endpoint gets the incident events and API's component event, never Web's.
    api_bodies = [json.loads(b) for b in receiver.bodies("/api")]
    assert all(b.get("component", {}).get("name", "API") == "API" for b in api_bodies)
    web_bodies = [json.loads(b) for b in receiver.bodies("/web")]
    assert [b["component"]["name"] for b in web_bodies] == ["Web"]
    # Exactly once each, and every one signed with its own subscriber's secret.
    assert len({r.body for r in receiver.received}) == len(receiver.received)
    secrets = {"/all": everything_secret, "/api": api_secret}
    for request in receiver.received:
        if request.path in secrets:
            assert verify(secrets[request.path], request.body, request.headers[SIGNATURE_HEADER])
            assert not verify(secrets[request.path], request.body + b" ", request.headers[SIGNATURE_HEADER])
    assert set(Delivery.objects.values_list("status", flat=True)) == {DeliveryStatus.SENT}
    assert len(mail.outbox) == 2  # the email reader got the two incident updates, no component event


def test_a_receiver_answering_500_then_200_gets_the_event_once(
    page, make_component, receiver, django_capture_on_commit_callbacks
):
    api = make_component("API")
    subscriber, _ = webhook(page, receiver.url())
    receiver.script["/hook"] = [500]
    with django_capture_on_commit_callbacks(execute=True):
        services.incident_create(page=page, name="Errors", body="Looking.", affected=[api])
    assert len(receiver.bodies()) == 1
    retry_due()
    assert len(receiver.bodies()) == 2  # the failed one, then the one that was taken
    assert json.loads(receiver.bodies()[1])["incident"]["name"] == "Errors"
    assert Delivery.objects.get().status == DeliveryStatus.SENT
    subscriber.refresh_from_db()
    assert subscriber.failures == 0


def test_ten_failures_within_the_hour_quarantine_the_endpoint_and_tell_its_email(
    page, make_component, receiver, settings, django_capture_on_commit_callbacks
):
    """One event's retries alone (10 attempts, 10 s doubling to 10 min: about 40 minutes) reach the quarantine."""
    from notifications import conf

    attempts, base, longest = conf.endpoint_retries()
    span = sum(min(base * 2**n, longest) for n in range(attempts - 1))
    assert attempts == 10
    assert 1800 <= span <= 3600  # the last try falls within the quarantine's hour
    api = make_component("API")
    subscriber, _ = webhook(page, receiver.url())
    receiver.script["/hook"] = [500] * 20
    with django_capture_on_commit_callbacks(execute=True):
        first = services.incident_create(page=page, name="One", body="a", affected=[api])
    for _ in range(9):
        with django_capture_on_commit_callbacks(execute=True):
            retry_due()
    subscriber.refresh_from_db()
    assert subscriber.state == SubscriberState.QUARANTINED
    assert len(receiver.received) == 10
    assert [m.subject for m in mail.outbox if m.to == ["ops@example.com"]] == [
        "[Acme Cloud] Your webhook is quarantined"
    ]
    # Quarantined: nothing more is sent; reactivated: events flow again.
    with django_capture_on_commit_callbacks(execute=True):
        services.incident_post_update(incident=first, body="More.")
    assert len(receiver.received) == 10
    assert notify.subscriber_reactivate(subscriber)
    receiver.script["/hook"] = []
    with django_capture_on_commit_callbacks(execute=True):
        services.incident_post_update(incident=first, body="Again.")
    assert json.loads(receiver.received[-1].body)["incident"]["incident_updates"][0]["body"] == "Again."


def test_a_hanging_receiver_is_cut_at_the_timeout_and_a_redirect_is_a_failure(
    page, make_component, receiver, django_capture_on_commit_callbacks
):
    api = make_component("API")
    webhook(page, receiver.url("/hang"))
    webhook(page, receiver.url("/moved"))
    receiver.script["/hang"] = ["hang"]
    receiver.script["/moved"] = [(302, {"Location": "http://169.254.169.254/latest"})]
    started = time.monotonic()
    with django_capture_on_commit_callbacks(execute=True):
        services.incident_create(page=page, name="Errors", body="Looking.", affected=[api])
    assert time.monotonic() - started < 3  # WEBHOOK_TIMEOUT is 1 s here
    errors = dict(Delivery.objects.values_list("subscriber__endpoint", "last_error"))
    assert "timed out" in errors[receiver.url("/hang")].lower()
    assert "HTTP 302" in errors[receiver.url("/moved")]
    assert [r.path for r in receiver.received].count("/moved") == 1  # the redirect was not followed
    assert set(Delivery.objects.values_list("status", flat=True)) == {DeliveryStatus.QUEUED}  # to be retried


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/hook",
        "http://10.0.0.8/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://[64:ff9b::7f00:1]/hook",  # NAT64 of 127.0.0.1
        "http://[64:ff9b::a9fe:a9fe]/latest/meta-data",  # NAT64 of the metadata address
        "http://[2002:7f00:1::]/hook",  # 6to4 of 127.0.0.1
        "http://[::127.0.0.1]/hook",  # the old IPv4-compatible form
        "http://93.184.216.34:8080/hook",  # not a standard port unless WEBHOOK_ALLOWED_PORTS says so
        "ftp://example.com/hook",
        "http://user:pw@93.184.216.34/hook",
        "http://93.184.216.34:22/hook",
    ],
)
def test_the_ssrf_guard_refuses_internal_addresses_other_schemes_and_odd_ports(url, settings):
    settings.WEBHOOK_ALLOWED_NETWORKS = []
    with pytest.raises(EndpointRefused):
        resolve(url)


def test_allowed_networks_let_an_internal_endpoint_through_on_any_port(settings):
    settings.WEBHOOK_ALLOWED_NETWORKS = ["10.0.0.0/8"]
    assert resolve("http://10.1.2.3:9000/x?y=1").address == "10.1.2.3"
    assert resolve("http://93.184.216.34/hook").port == 80
    assert resolve("http://[64:ff9b::5db8:d822]/hook").port == 80  # NAT64 of a public address is public
    with pytest.raises(EndpointRefused):
        resolve("http://192.168.1.1/hook")


def test_subscribing_an_internal_endpoint_is_a_clear_error_and_creates_nothing(page, settings):
    settings.WEBHOOK_ALLOWED_NETWORKS = []
    with pytest.raises(ValidationError, match="not public"):
        webhook(page, "http://127.0.0.1:8000/hook")
    assert not Subscriber.objects.exists()


def test_the_send_time_check_refuses_an_endpoint_the_operator_no_longer_allows(
    page, make_component, receiver, settings, django_capture_on_commit_callbacks
):
    api = make_component("API")
    webhook(page, receiver.url())
    settings.WEBHOOK_ALLOWED_NETWORKS = []
    with django_capture_on_commit_callbacks(execute=True):
        services.incident_create(page=page, name="Errors", body="Looking.", affected=[api])
    assert receiver.received == []
    assert "not public" in Delivery.objects.get().last_error


def two_events_the_first_failing(page, component, receiver, capture) -> None:
    """A webhook on `receiver` gets an incident's first event (which fails once) and then its second."""
    webhook(page, receiver.url())
    receiver.script["/hook"] = [500]
    with capture(execute=True):
        incident = services.incident_create(page=page, name="Errors", body="first", affected=[component])
        services.incident_post_update(incident=incident, body="second")


def test_one_endpoint_gets_one_incidents_events_in_order(
    page, make_component, receiver, django_capture_on_commit_callbacks
):
    two_events_the_first_failing(page, make_component("API"), receiver, django_capture_on_commit_callbacks)
    # The first failed; the second waited behind it instead of overtaking it.
    assert [json.loads(b)["incident"]["incident_updates"][0]["body"] for b in receiver.bodies()] == ["first"]
    retry_due()
    retry_due()
    bodies = [json.loads(b)["incident"]["incident_updates"][0]["body"] for b in receiver.bodies()]
    assert bodies == ["first", "first", "second"]


def test_the_manage_api_creates_a_webhook_and_shows_its_secret_once(admin_api, page, receiver):
    created = admin_api.post("subscribers", {"subscriber": {
        "endpoint": receiver.url(), "email": "ops@customer.example", "skip_confirmation_notification": True,
    }})  # fmt: skip
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["mode"], body["endpoint"], body["state"]) == ("webhook", receiver.url(), "confirmed")
    assert body["signing_secret"] == Subscriber.objects.get().signing_secret
    assert "signing_secret" not in admin_api.get(f"subscribers/{body['id']}").json()
    again = admin_api.post("subscribers", {"subscriber": {"endpoint": receiver.url(), "email": "ops@customer.example"}})
    assert again.json()["id"] == body["id"]
    assert "signing_secret" not in again.json()


def test_the_manage_api_refuses_an_internal_endpoint_with_422(admin_api, page, settings):
    settings.WEBHOOK_ALLOWED_NETWORKS = []
    answer = admin_api.post("subscribers", {"subscriber": {"endpoint": "http://10.0.0.8/x", "email": "a@b.example"}})
    assert answer.status_code == 422
    assert "not public" in answer.json()["error"]
    assert not Subscriber.objects.exists()


def test_a_webhook_from_the_public_form_is_pending_until_its_email_confirms(
    client, page, receiver, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post("/subscribe", {"email": "dev@customer.example", "endpoint": receiver.url()})
    assert answer.status_code == 200
    subscriber = Subscriber.objects.get()
    assert (subscriber.channel, subscriber.state) == ("webhook", SubscriberState.PENDING)
    assert subscriber.signing_secret in answer.content.decode()
    (confirmation,) = mail.outbox
    assert confirmation.to == ["dev@customer.example"]
    assert receiver.url() in confirmation.body


def test_a_slack_subscriber_gets_block_kit_and_a_429_waits_its_retry_after(
    page, make_component, receiver, django_capture_on_commit_callbacks
):
    api = make_component("API")
    subscriber, secret = subscribe_endpoint(page=page, channel="slack", endpoint=receiver.url("/slack"))
    assert (subscriber.state, secret) == (SubscriberState.CONFIRMED, None)  # a page admin's: active, unsigned
    receiver.script["/slack"] = [(429, {"Retry-After": "600"})]
    with django_capture_on_commit_callbacks(execute=True):
        services.incident_create(page=page, name="Errors", body="Looking.", affected=[api])
    delivery = Delivery.objects.get()
    assert delivery.status == DeliveryStatus.QUEUED
    assert delivery.next_attempt_at >= delivery.created_at + timedelta(seconds=590)
    retry_due()
    message = json.loads(receiver.bodies("/slack")[-1])
    assert message["attachments"][0]["blocks"][0]["text"]["text"] == "Errors: Investigating"
    assert Delivery.objects.get().status == DeliveryStatus.SENT


def test_a_page_admin_adds_a_webhook_in_the_admin_and_sees_its_secret_once(admin_client, page, receiver, settings):
    url = "/admin/notifications/subscriber/add/"
    form = {"page": page.pk, "channel": "webhook", "endpoint": receiver.url(), "email": "", "state": "pending"}
    answer = admin_client.post(url, {**form, "_save": "Save"}, follow=True)
    subscriber = Subscriber.objects.get()
    assert (subscriber.channel, subscriber.state) == ("webhook", SubscriberState.CONFIRMED)
    assert subscriber.signing_secret in answer.content.decode()
    later = admin_client.get(f"/admin/notifications/subscriber/{subscriber.pk}/change/")
    assert subscriber.signing_secret not in later.content.decode()
    settings.WEBHOOK_ALLOWED_NETWORKS = []
    refused = admin_client.post(url, {**form, "endpoint": "http://10.0.0.9/x", "_save": "Save"})
    assert "not public" in refused.content.decode()
    assert Subscriber.objects.count() == 1


def test_a_silent_update_s_component_changes_post_no_component_event(
    page, make_component, receiver, django_capture_on_commit_callbacks
):
    """Backfilled and imported updates are posted without notifications: their component changes too."""
    api = make_component("API")
    webhook(page, receiver.url("/all"))
    with django_capture_on_commit_callbacks(execute=True):
        services.incident_create(
            page=page, name="Old outage", body="Back-filled.", components={api: S.MAJOR_OUTAGE},
            deliver_notifications=False,
        )  # fmt: skip
    assert receiver.bodies("/all") == []
    with django_capture_on_commit_callbacks(execute=True):
        services.component_set_status(component=api, status=S.OPERATIONAL)  # a change of its own: announced
    assert [json.loads(b)["component_update"]["new_status"] for b in receiver.bodies("/all")] == ["operational"]
