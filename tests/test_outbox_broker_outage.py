"""A hung or absent broker (our own redis-server, stopped with SIGSTOP) never hangs a write nor loses an email.

The post answers at once with what happened (the incident, once); the rows wait in the database, and the
sweeper hands them over once the broker is back.
"""

import time
from collections import Counter

import pytest

from incidents import services
from incidents.choices import ComponentStatus as S
from incidents.models import Incident
from notifications import ratelimit
from notifications.models import EmailKind, Notification, SubscriberEmail
from notifications.tasks import sweep
from tests.notify_helpers import confirmed
from tests.redis_server import celery_app_on

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def outbox_app(own_redis):
    with celery_app_on(own_redis.url) as app:
        yield app


@pytest.fixture
def hung_broker(own_redis, outbox_app):
    """Publishing goes to our own Redis, which hangs (no worker: nothing could run the tasks anyway)."""
    own_redis.hang()
    yield own_redis
    own_redis.resume()


def test_a_manage_api_post_that_notifies_answers_201_at_once_with_the_broker_hung(
    hung_broker, admin_api, page, make_component
):
    api = make_component("API")
    confirmed(page, "reader@example.com")
    started = time.monotonic()
    response = admin_api.post(
        "incidents",
        {"incident": {"name": "Broker hung", "status": "investigating", "body": "Looking.",
                      "components": {api.code: "major_outage"}, "deliver_notifications": True}},
    )  # fmt: skip
    took = time.monotonic() - started
    print(f"\nmanage API POST with the broker hung: 201 in {took:.1f} s")
    assert response.status_code == 201, response.content
    assert took < 6, f"the answer took {took:.1f} s"
    assert Incident.objects.filter(name="Broker hung").count() == 1
    notification = Notification.objects.get(update__incident__name="Broker hung")
    assert notification.enqueued_at is None  # the next sweep hands it over


def test_a_subscribe_with_the_broker_hung_keeps_its_confirmation_and_its_limits(hung_broker, client, page, settings):
    settings.NOTIFICATIONS_SUBSCRIBE_LIMIT_PER_ADDRESS = (3, 3600)
    started = time.monotonic()
    answers = [client.post("/subscribe", {"email": "ann@example.com"}).status_code for _ in range(5)]
    assert time.monotonic() - started < 15
    assert answers == [200, 200, 200, 429, 429]
    (email,) = SubscriberEmail.objects.all()  # one confirmation per interval, kept for the sweeper
    assert (email.kind, email.enqueued_at) == (EmailKind.CONFIRM, None)


def test_the_subscribe_limits_count_in_the_database_without_any_cache(settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
    assert [ratelimit.allow("address:x@example.com", 2, 3600) for _ in range(4)] == [True, True, False, False]


def test_after_a_broker_outage_the_emails_go_out_once_soon_after_it_is_back(
    own_redis,
    outbox_worker,
    smtp,
    page,
    make_component,
):
    api = make_component("API")
    readers = [confirmed(page, f"later{n}@example.com") for n in range(3)]
    own_redis.hang()
    try:
        started = time.monotonic()
        services.incident_create(page=page, name="Broker down", body="Looking.", components={api: S.MAJOR_OUTAGE})
        assert time.monotonic() - started < 6
    finally:
        own_redis.resume()
    back = time.monotonic()
    assert smtp.messages == []
    # Beat runs the sweep every 15 s (its first tick here as the broker comes back).
    deadline = back + 60
    while len(smtp.messages) < 3 and time.monotonic() < deadline:
        sweep.delay()
        tick = time.monotonic() + 15
        while len(smtp.messages) < 3 and time.monotonic() < tick:
            time.sleep(0.1)
    recovered = time.monotonic() - back
    assert len(smtp.messages) >= 3, "not delivered within 60 s of the broker's return"
    sweep.delay()
    time.sleep(1)
    assert Counter(m["To"] for m in smtp.messages) == {r.email: 1 for r in readers}
    print(f"\nbroker outage: emails out {recovered:.1f} s after the broker came back")
