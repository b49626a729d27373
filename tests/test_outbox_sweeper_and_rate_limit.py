"""The beat sweeper (nothing lost, nothing twice) and the outbound rate limit shared through the cache."""

from datetime import timedelta

import pytest
from django.core import mail
from django.db.models.functions import Now
from django.utils import timezone

from incidents import services
from incidents.choices import ComponentStatus as S
from notifications import ratelimit
from notifications.models import Delivery, DeliveryStatus, Notification, Subscriber, SubscriberChannel, SubscriberState
from notifications.tasks import fanout, send_deliveries, sweep
from tests.notify_helpers import confirmed, recipients_of

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def quiet_update(page, make_component):
    """An update with a Notification row whose fan-out never ran (as if the broker had lost it)."""
    api = make_component("API")
    incident = services.incident_create(
        page=page, name="Down", body="Looking.", components={api: S.MAJOR_OUTAGE}, deliver_notifications=False
    )
    update = incident.updates.get()
    return Notification.objects.create(update=update, page=page)


def backdate(queryset, seconds: float, *fields) -> None:
    """Move the rows' database times into the past (the outbox compares database times only)."""
    queryset.update(**{field: Now() - timedelta(seconds=seconds) for field in fields})


def test_the_sweeper_fans_out_a_notification_the_broker_lost(page, quiet_update):
    confirmed(page, "a@example.com")
    confirmed(page, "b@example.com")
    backdate(Notification.objects.all(), 1, "enqueued_at")
    assert sweep()["notifications"] == 0  # handed over a second ago: not late yet
    backdate(Notification.objects.all(), 121, "enqueued_at")  # the broker lost it
    sweep()
    sweep()
    assert recipients_of(mail.outbox) == ["a@example.com", "b@example.com"]


def test_the_sweeper_fans_out_at_once_a_notification_the_broker_never_took(page, quiet_update):
    confirmed(page, "a@example.com")
    Notification.objects.update(enqueued_at=None)
    assert sweep()["notifications"] == 1
    assert recipients_of(mail.outbox) == ["a@example.com"]


def test_the_sweeper_requeues_deliveries_stuck_in_sending_and_never_resends_what_was_sent(page, quiet_update):
    done, stuck, waiting = (confirmed(page, f"{name}@example.com") for name in ("done", "stuck", "waiting"))
    now = timezone.now()
    Delivery.objects.create(notification=quiet_update, subscriber=done, status=DeliveryStatus.SENT, sent_at=now)
    stuck_row = Delivery.objects.create(
        notification=quiet_update, subscriber=stuck, status=DeliveryStatus.SENDING, claim="dead", attempts=1
    )  # its worker died mid-chunk
    backdate(Delivery.objects.filter(pk=stuck_row.pk), 30, "claimed_at", "heartbeat_at")
    lost = Delivery.objects.create(notification=quiet_update, subscriber=waiting)  # its task was lost
    backdate(Delivery.objects.filter(pk=lost.pk), 121, "enqueued_at")
    Notification.objects.filter(pk=quiet_update.pk).update(fanned_out_at=now)

    assert sweep()["deliveries"] == 1
    assert recipients_of(mail.outbox) == ["waiting@example.com"]
    backdate(Delivery.objects.filter(pk=stuck_row.pk), 46, "heartbeat_at")  # quiet for the stuck window
    assert sweep()["stuck"] == 1
    assert recipients_of(mail.outbox) == ["stuck@example.com", "waiting@example.com"]

    send_deliveries(list(Delivery.objects.values_list("pk", flat=True)))
    assert len(mail.outbox) == 2


def test_a_retry_waits_for_its_backoff_before_it_can_be_claimed(page, quiet_update):
    reader = confirmed(page, "reader@example.com")
    delivery = Delivery.objects.create(notification=quiet_update, subscriber=reader)
    Delivery.objects.update(next_attempt_at=Now() + timedelta(minutes=5))
    send_deliveries([delivery.pk])
    assert mail.outbox == []
    backdate(Delivery.objects.all(), 1, "next_attempt_at")
    send_deliveries([delivery.pk])
    assert len(mail.outbox) == 1


def test_the_rate_limit_holds_senders_to_the_configured_messages_per_second(settings):
    settings.NOTIFICATIONS_RATE_LIMIT = 3
    clock = {"now": 1000.0}
    slept = []

    def sleep(seconds):
        slept.append(seconds)
        clock["now"] += seconds

    for _ in range(7):
        ratelimit.acquire(now=lambda: clock["now"], sleep=sleep)
    # 3 in the first second, 3 in the next, the 7th waits for the third.
    assert len(slept) == 2
    assert int(clock["now"]) == 1002


def test_no_rate_limit_means_no_waiting(settings):
    settings.NOTIFICATIONS_RATE_LIMIT = 0
    ratelimit.acquire(now=lambda: 0.0, sleep=lambda s: pytest.fail("should not wait"))


def test_an_unreachable_smtp_server_is_retried_a_bounded_number_of_times(page, quiet_update, settings):
    from tests.smtp_sink import free_port

    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", free_port(), 2
    settings.NOTIFICATIONS_MAX_ATTEMPTS = 3
    reader = confirmed(page, "reader@example.com")
    delivery = Delivery.objects.create(notification=quiet_update, subscriber=reader)
    send_deliveries([delivery.pk])
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.QUEUED, 1)
    assert delivery.last_error.startswith("connection")
    first_wait = delivery.next_attempt_at - timezone.now()
    assert timedelta(seconds=10) < first_wait <= timedelta(seconds=31)

    backdate(Delivery.objects.all(), 1, "next_attempt_at")
    send_deliveries([delivery.pk])
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.QUEUED, 2)
    backdate(Delivery.objects.all(), 1, "next_attempt_at")
    send_deliveries([delivery.pk])
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.FAILED, 3)
    assert delivery.last_error.startswith("gave up after 3 attempts")


def test_the_fan_out_streams_recipients_in_chunks_with_one_send_task_each(page, quiet_update, settings, monkeypatch):
    settings.NOTIFICATIONS_CHUNK_SIZE = 2
    for n in range(5):
        confirmed(page, f"r{n}@example.com")
    chunks = []
    monkeypatch.setattr(send_deliveries, "apply_async", lambda args, **kw: chunks.append(args[0]))
    fanout(quiet_update.pk)
    assert [len(chunk) for chunk in chunks] == [2, 2, 1]
    assert sorted(pk for chunk in chunks for pk in chunk) == sorted(Delivery.objects.values_list("pk", flat=True))
    fanout(quiet_update.pk)  # already fanned out: nothing more
    assert len(chunks) == 3


def test_the_fan_out_gives_endpoint_messages_larger_chunks_than_emails(page, quiet_update, settings, monkeypatch):
    """Emails go `chunk_size` to a task (one SMTP session each), webhooks `endpoint_chunk_size` (posted a window at a
    time): each chunk holds one kind, and every row is handed on exactly once."""
    settings.NOTIFICATIONS_CHUNK_SIZE = 2
    settings.NOTIFICATIONS_ENDPOINT_CHUNK_SIZE = 4
    readers, hooks = [], []
    for n in range(5):
        readers.append(confirmed(page, f"r{n}@example.com"))
        hooks.append(
            Subscriber.objects.create(
                page=page, channel=SubscriberChannel.WEBHOOK, endpoint=f"https://hooks.example.com/{n}",
                email=f"hook{n}@example.com", signing_secret="s", state=SubscriberState.CONFIRMED,
            )
        )  # fmt: skip
    chunks = []
    monkeypatch.setattr(send_deliveries, "apply_async", lambda args, **kw: chunks.append(args[0]))
    fanout(quiet_update.pk)
    channel_of = dict(Delivery.objects.values_list("pk", "subscriber__channel"))
    kinds = [{channel_of[pk] for pk in chunk} for chunk in chunks]
    assert sorted((kind.pop(), len(chunk)) for kind, chunk in zip(kinds, chunks, strict=True)) == [
        ("email", 1), ("email", 2), ("email", 2), ("webhook", 1), ("webhook", 4),
    ]  # fmt: skip
    handed = [pk for chunk in chunks for pk in chunk]
    assert sorted(handed) == sorted(channel_of)
    assert len(handed) == 10
    assert not Delivery.objects.filter(enqueued_at__isnull=True).exists()


def test_a_fan_out_cut_short_is_resumed_after_the_last_subscriber_with_a_row(page, quiet_update, settings, monkeypatch):
    settings.NOTIFICATIONS_CHUNK_SIZE = 2
    readers = [confirmed(page, f"r{n}@example.com") for n in range(5)]
    # A run killed by its time limit after it made the first rows, perhaps before it handed them over; the first
    # was sent meanwhile.
    made = [
        Delivery.objects.create(notification=quiet_update, subscriber=r, enqueued_at=timezone.now())
        for r in readers[:3]
    ]
    Delivery.objects.filter(pk=made[0].pk).update(status=DeliveryStatus.SENT)
    chunks = []
    monkeypatch.setattr(send_deliveries, "apply_async", lambda args, **kw: chunks.append(args[0]))
    fanout(quiet_update.pk)
    handed = [Delivery.objects.get(pk=pk).subscriber.email for chunk in chunks for pk in chunk]
    # The rows still queued are handed over again (the claim sends each once), the rest made and handed over.
    assert sorted(handed) == [r.email for r in readers[1:]]
    assert Delivery.objects.count() == 5
