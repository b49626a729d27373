"""A window of webhook POSTs goes out from a thread pool, a few at once per host: one endpoint still gets one
incident's events in order, and a host that hangs holds up the others for one timeout at most."""

import json
import time

import pytest
from django.db.models.functions import Now

from incidents import services
from notifications.models import Delivery, DeliveryStatus, Subscriber
from notifications.tasks import send_deliveries
from tests.test_webhooks import retry_due, two_events_the_first_failing, webhook
from tests.webhook_receiver import start_receiver


@pytest.fixture
def receivers(settings):
    settings.WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    settings.WEBHOOK_TIMEOUT = 1
    settings.NOTIFICATIONS_RETRY_BASE_SECONDS = 60
    settings.NOTIFICATIONS_ENDPOINT_PER_HOST = 4
    servers = [start_receiver(), start_receiver()]  # two hosts (one port each)
    yield servers
    for server in servers:
        server.server.shutdown()
        server.server.server_close()


def latest_bodies(receiver, path):
    return [json.loads(body)["incident"]["incident_updates"][0]["body"] for body in receiver.bodies(path)]


def test_each_endpoint_gets_an_incidents_events_in_order_when_the_pool_sends_them_in_one_chunk(
    page, make_component, receivers, django_capture_on_commit_callbacks
):
    receiver = receivers[0]
    api = make_component("API")
    paths = [f"/e{i}" for i in range(6)]
    for path in paths:
        webhook(page, receiver.url(path))
        receiver.script[path] = [500]
    receiver.script["/e0"] = [500, 500]  # fails again when both events go out in the same chunk
    with django_capture_on_commit_callbacks(execute=True):
        incident = services.incident_create(page=page, name="Errors", body="first", affected=[api])
        services.incident_post_update(incident=incident, body="second")
    retry_due()  # one chunk holding both events of every endpoint
    for path in paths[1:]:
        assert latest_bodies(receiver, path) == ["first", "first", "second"]
    # /e0's first event failed again: its second, already checked for the next window, waited instead.
    assert latest_bodies(receiver, "/e0") == ["first", "first"]
    retry_due()
    retry_due()
    assert latest_bodies(receiver, "/e0") == ["first", "first", "first", "second"]
    assert set(Delivery.objects.values_list("status", flat=True)) == {DeliveryStatus.SENT}


def test_a_hanging_host_holds_up_the_others_for_one_timeout_and_its_untried_messages_wait_uncounted(
    page, make_component, receivers, django_capture_on_commit_callbacks
):
    hanging, healthy = receivers
    api = make_component("API")
    for i in range(16):
        webhook(page, hanging.url(f"/h{i}"))
        hanging.script[f"/h{i}"] = ["hang"]
        webhook(page, healthy.url(f"/ok{i}"))
    started = time.monotonic()
    with django_capture_on_commit_callbacks(execute=True):
        services.incident_create(page=page, name="Errors", body="Looking.", affected=[api])
    # One timeout (1 s) for the hanging host, not one per message (16 s in turn, or 4 s four at a time).
    assert time.monotonic() - started < 3
    assert {r.path for r in healthy.received} == {f"/ok{i}" for i in range(16)}
    rows = Delivery.objects.filter(subscriber__endpoint__contains=f":{hanging.port}/")
    untried = rows.filter(last_error__startswith="not sent")
    tried = rows.exclude(pk__in=untried)
    assert len(hanging.received) == 4 == tried.filter(last_error__icontains="timed out").count() == tried.count()
    assert untried.count() == 12
    assert set(untried.values_list("attempts", flat=True)) == {0}
    assert Subscriber.objects.filter(failures__gt=0).count() == 4  # only the tried ones count towards quarantine
    assert set(rows.values_list("status", flat=True)) == {DeliveryStatus.QUEUED}


def test_an_earlier_event_another_run_holds_keeps_the_later_one_back_even_in_the_same_chunk(
    page, make_component, receivers, django_capture_on_commit_callbacks
):
    """A sweeper's chunk may name a row another task is sending: that row's later event waits, though it is in
    the chunk too (only the rows this task itself sends, in order, do not hold the others back)."""
    receiver = receivers[0]
    two_events_the_first_failing(page, make_component("API"), receiver, django_capture_on_commit_callbacks)
    first, second = Delivery.objects.order_by("notification_id")
    assert (first.status, second.status) == (DeliveryStatus.QUEUED, DeliveryStatus.QUEUED)
    Delivery.objects.filter(pk=first.pk).update(status=DeliveryStatus.SENDING, claim="another run", heartbeat_at=Now())
    Delivery.objects.filter(pk=second.pk).update(next_attempt_at=None)
    posted = len(receiver.received)
    send_deliveries([first.pk, second.pk])
    assert len(receiver.received) == posted  # the second did not overtake the first
    second.refresh_from_db()
    assert (second.status, second.last_error) == (DeliveryStatus.QUEUED, "an earlier event is not sent yet")
