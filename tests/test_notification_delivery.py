"""Delivering notifications with a real Redis broker, a real Celery worker and a real SMTP server.

Every email reaches the right people exactly once, whatever the broker, the worker or the SMTP server do.
"""

from collections import Counter

import pytest
from django.test import Client

from incidents import services
from incidents.choices import ComponentStatus as S
from incidents.choices import IncidentStatus
from notifications import services as notify
from notifications.models import Delivery, DeliveryStatus, Notification, Subscriber, SubscriberState
from notifications.tasks import fanout, send_deliveries
from tests.notify_helpers import assert_email_contains, confirmed
from tests.smtp_sink import wait_until

pytestmark = pytest.mark.usefixtures("outbox_worker")


@pytest.fixture
def api(page, make_component):
    group = services.component_group_create(page=page, name="API")
    rest = make_component("REST API", group=group)
    return group, rest


def wait_for_queue_to_drain(smtp, page, make_component):
    """The solo worker runs tasks in order: once a later sentinel email arrives, earlier tasks are done.

    The sentinel incident is on another page, so that it reaches only its own subscriber.
    """
    n = len(smtp.messages)
    other_page = services.page_create(name=f"Sentinel {n}")
    sentinel = services.component_create(page=other_page, name="Sentinel")
    watcher = confirmed(other_page, f"sentinel-{n}@example.com")
    services.incident_create(
        page=other_page, name="Sentinel", body="Done?", components={sentinel: S.DEGRADED_PERFORMANCE}
    )
    wait_until(lambda: smtp.to(watcher.email), what="the sentinel email")
    return [m for m in smtp.messages if not m["To"].startswith("sentinel-")]


def test_subscribers_with_mixed_scopes_receive_exactly_the_right_emails_once_each(smtp, page, api, make_component):
    group, rest = api
    website = make_component("Website")
    everyone = confirmed(page, "all@example.com")
    by_group = confirmed(page, "group@example.com", groups=[group])
    by_rest = confirmed(page, "rest@example.com", components=[rest])
    confirmed(page, "website@example.com", components=[website])
    notify.subscribe(page=page, email="pending@example.com")  # never confirmed
    graphql = make_component("GraphQL", group=group)  # added to the group after group@ subscribed

    incident = services.incident_create(
        page=page, name="GraphQL errors", body="We are investigating.", components={graphql: S.PARTIAL_OUTAGE}
    )
    smtp.wait_for(2)
    by_incident = confirmed(page, "incident@example.com", incident=incident)
    services.incident_post_update(
        incident=incident,
        body="REST is affected too.",
        status=IncidentStatus.IDENTIFIED,
        components={rest: S.DEGRADED_PERFORMANCE},
    )
    smtp.wait_for(7)

    received = Counter((m["To"], m["Subject"]) for m in wait_for_queue_to_drain(smtp, page, make_component))
    assert received == {
        (everyone.email, "[Acme Cloud] GraphQL errors: Investigating"): 1,
        (by_group.email, "[Acme Cloud] GraphQL errors: Investigating"): 1,
        (everyone.email, "[Acme Cloud] GraphQL errors: Identified"): 1,
        (by_group.email, "[Acme Cloud] GraphQL errors: Identified"): 1,
        (by_rest.email, "[Acme Cloud] GraphQL errors: Identified"): 1,
        (by_incident.email, "[Acme Cloud] GraphQL errors: Identified"): 1,
        ("pending@example.com", "[Acme Cloud] Confirm your subscription"): 1,  # and no notification
    }
    # The sink has each message a moment before the worker records it (with its next claim check, or at the end).
    wait_until(lambda: set(Delivery.objects.values_list("status", flat=True)) == {DeliveryStatus.SENT}, 10, "records")


def test_a_send_task_run_twice_sends_nothing_twice(smtp, page, api, make_component):
    group, rest = api
    for n in range(5):
        confirmed(page, f"reader{n}@example.com")
    incident = services.incident_create(
        page=page, name="Slow API", body="Investigating.", components={rest: S.DEGRADED_PERFORMANCE}
    )
    smtp.wait_for(5)
    notification = Notification.objects.get(update__incident=incident)
    ids = list(notification.deliveries.values_list("id", flat=True))

    # Redelivery, a retry and the sweeper all amount to running the same tasks again.
    send_deliveries.delay(ids)
    send_deliveries.delay(ids)
    Notification.objects.filter(pk=notification.pk).update(fanned_out_at=None)
    fanout.delay(notification.pk)

    received = Counter(m["To"] for m in wait_for_queue_to_drain(smtp, page, make_component))
    assert received == {f"reader{n}@example.com": 1 for n in range(5)}


def test_two_runs_of_the_same_queued_chunk_send_each_email_once(smtp, page, api, make_component):
    group, rest = api
    readers = [confirmed(page, f"twice{n}@example.com") for n in range(5)]
    incident = services.incident_create(
        page=page, name="Quiet", body="No email for this one.", components={rest: S.DEGRADED_PERFORMANCE},
        deliver_notifications=False,
    )  # fmt: skip
    update = services.incident_post_update(incident=incident, body="Posted by hand.", deliver_notifications=False)
    notification = Notification.objects.create(update=update, page=page)
    Notification.objects.filter(pk=notification.pk).update(fanned_out_at=notification.created_at)
    ids = [Delivery.objects.create(notification=notification, subscriber=s).pk for s in readers]

    send_deliveries.delay(ids)
    send_deliveries.delay(ids)

    received = Counter(m["To"] for m in wait_for_queue_to_drain(smtp, page, make_component))
    assert received == {r.email: 1 for r in readers}


def test_an_smtp_4xx_is_retried_with_backoff_and_delivers_once(smtp, page, api, settings):
    group, rest = api
    settings.NOTIFICATIONS_RETRY_BASE_SECONDS = 0.2
    greylisted = confirmed(page, "greylisted@example.com")
    other = confirmed(page, "other@example.com")
    smtp.refuse(greylisted.email, "451 4.7.1 Greylisted, try again later", times=1)

    services.incident_create(page=page, name="Retry", body="Investigating.", components={rest: S.MAJOR_OUTAGE})

    wait_until(lambda: smtp.to(greylisted.email), what="the retried email")
    # The server has the message a moment before the worker records it.
    wait_until(lambda: Delivery.objects.get(subscriber=greylisted).status == DeliveryStatus.SENT, 5, "the record")
    assert len(smtp.to(other.email)) == 1
    assert len(smtp.to(greylisted.email)) == 1
    delivery = Delivery.objects.get(subscriber=greylisted)
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.SENT, 2)


def test_an_smtp_5xx_fails_the_delivery_and_quarantines_the_subscriber(smtp, page, api, make_component):
    group, rest = api
    gone = confirmed(page, "gone@example.com")
    other = confirmed(page, "fine@example.com")
    smtp.refuse(gone.email, "550 5.1.1 No such user")

    incident = services.incident_create(
        page=page, name="Bounce", body="Investigating.", components={rest: S.MAJOR_OUTAGE}
    )
    smtp.wait_for(1)
    wait_until(lambda: Delivery.objects.get(subscriber=gone).status == DeliveryStatus.FAILED, what="the failure")
    gone.refresh_from_db()
    assert gone.state == SubscriberState.QUARANTINED
    assert "550" in gone.quarantine_reason

    services.incident_post_update(incident=incident, body="Still on it.")
    wait_for_queue_to_drain(smtp, page, make_component)
    assert smtp.attempts.count(gone.email) == 1
    assert len(smtp.to(other.email)) == 2


def test_notifications_carry_threading_list_and_one_click_unsubscribe_headers(smtp, page, api, settings):
    settings.SITE_URL = "https://status.example.com"
    group, rest = api
    reader = confirmed(page, "reader@example.com", groups=[group])
    incident = services.incident_create(
        page=page, name="Login failures", body="We are **investigating**.", components={rest: S.PARTIAL_OUTAGE}
    )
    first = smtp.wait_for(1)[0]
    services.incident_post_update(incident=incident, body="Fixed.", status=IncidentStatus.RESOLVED,
                                  components={rest: S.OPERATIONAL})  # fmt: skip
    second = smtp.wait_for(2)[1]

    assert first["Subject"] == "[Acme Cloud] Login failures: Investigating"
    assert_email_contains(first, "Investigating", "investigating", "REST API", "Partial Outage",
                          f"https://status.example.com/incidents/{incident.code}", "Manage your subscription")  # fmt: skip
    assert first["Message-ID"] != second["Message-ID"]
    assert first["In-Reply-To"] is None
    assert second["In-Reply-To"] == first["Message-ID"]
    assert second["References"] == first["Message-ID"]
    assert first["List-Id"] == f"Acme Cloud <{page.code}.status.example.com>"
    assert first["Auto-Submitted"] == "auto-generated"
    assert first["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    unsubscribe_url = first["List-Unsubscribe"].strip().strip("<>")
    assert unsubscribe_url.startswith("https://status.example.com/subscriptions/unsubscribe/")

    # RFC 8058: the mail provider POSTs to the URL, with no cookie and no CSRF token.
    path = unsubscribe_url.removeprefix("https://status.example.com")
    response = Client(enforce_csrf_checks=True).post(
        path, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 200
    assert not Subscriber.objects.filter(pk=reader.pk).exists()
