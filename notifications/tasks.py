"""Celery tasks of the outbox. They take ids, re-read rows, and exit quietly when a row is gone.

fanout(notification)       → Delivery rows in bulk, one send task per chunk
send_deliveries(ids)       → claim, then per message: check the claim, send, record (notifications/sending.py)
send_subscriber_email(id)  → a confirmation or welcome email, from its row
import_subscribers(id)     → a CSV import, with its progress on its row
sweep()                    → (beat, every 15 s) hand over what a broker outage or a dead worker left behind
"""

import logging

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.db.models import Max
from django.db.models.functions import Now

from notifications import conf, imports, sending
from notifications.enqueue import enqueue_fanout, enqueue_import, enqueue_send, enqueue_subscriber_email
from notifications.models import (
    Delivery,
    DeliveryStatus,
    ImportStatus,
    Notification,
    RequestCount,
    SubscriberChannel,
    SubscriberEmail,
    SubscriberImport,
)
from notifications.outbox import ago, insert_deliveries, sweep_stuck_deliveries, waiting_for_a_task
from notifications.services import recipient_chunks

log = logging.getLogger(__name__)

FANOUT_CHUNKS_PER_BATCH = 5  # email chunks' worth of rows made by one INSERT of the fan-out


@shared_task(ignore_result=True)
def fanout(notification_id: int) -> None:
    """Delivery rows chunk by chunk, each chunk handed to a send task. A run cut short (time limit, dead
    worker) is resumed after the last subscriber that has a row, so a long list always gets to its end."""
    notification = Notification.objects.select_related("update__incident").filter(pk=notification_id).first()
    if notification is None or notification.fanned_out_at is not None:
        return
    after = Delivery.objects.filter(notification_id=notification_id).aggregate(last=Max("subscriber_id"))["last"]
    try:
        if after is not None:
            # Resumed: the rows the cut-short run made are handed over again (it may have died before handing
            # some over, though it marked them as handed; a row already sent or claimed is skipped by the claim).
            made = Delivery.objects.filter(notification_id=notification_id, status=DeliveryStatus.QUEUED)
            if not _hand_over(notification_id, list(made.values_list("pk", "subscriber__channel"))):
                return
        _fan_out(notification, after=after or 0)
    except SoftTimeLimitExceeded:
        # Time is up: a new run goes on from here (or the sweeper's, if the broker is away).
        if not enqueue_fanout(notification_id):
            Notification.objects.filter(pk=notification_id).update(enqueued_at=None)


def _fan_out(notification: Notification, *, after: int) -> None:
    """Rows a batch at a time (one INSERT each, marked as handed to the broker), then a send task per chunk."""
    notification_id = notification.pk
    batch_size = max(conf.chunk_size() * FANOUT_CHUNKS_PER_BATCH, conf.endpoint_chunk_size())
    for batch in recipient_chunks(notification, batch_size, after=after):
        queued = insert_deliveries(notification_id, [pk for pk, _ in batch])
        if not _hand_over(notification_id, [(queued[pk], channel) for pk, channel in batch if pk in queued]):
            return
        Notification.objects.filter(pk=notification_id).update(enqueued_at=Now())  # the fan-out's heartbeat
    Notification.objects.filter(pk=notification_id).update(fanned_out_at=Now())


def _hand_over(notification_id: int, rows: list[tuple[int, str]]) -> bool:
    """A send task per chunk of (row, channel): emails `chunk_size` to a task (one SMTP session), endpoint messages
    `endpoint_chunk_size` (sent a window at a time, in parallel). False if the broker went away: the rows it did
    not take are marked so, for the next sweep (which also runs the fan-out again)."""
    size, endpoint_size = conf.chunk_size(), conf.endpoint_chunk_size()
    emails = [pk for pk, channel in rows if channel == SubscriberChannel.EMAIL]
    endpoints = [pk for pk, channel in rows if channel != SubscriberChannel.EMAIL]
    chunks = [emails[i : i + size] for i in range(0, len(emails), size)]
    chunks += [endpoints[i : i + endpoint_size] for i in range(0, len(endpoints), endpoint_size)]
    for index, chunk in enumerate(chunks):
        if not enqueue_send(chunk):
            rest = [pk for later in chunks[index:] for pk in later]
            Delivery.objects.filter(pk__in=rest, status=DeliveryStatus.QUEUED).update(enqueued_at=None)
            Notification.objects.filter(pk=notification_id).update(enqueued_at=None)
            return False
    return True


@shared_task(ignore_result=True)
def send_deliveries(delivery_ids: list[int]) -> None:
    sending.send_chunk(delivery_ids)


@shared_task(ignore_result=True)
def send_subscriber_email(email_id: int) -> None:
    sending.send_subscriber_email(email_id)


@shared_task(ignore_result=True)
def import_subscribers(import_id: int) -> None:
    imports.run_import(import_id)


@shared_task(ignore_result=True)
def sweep() -> dict:
    """Hand over notifications not fanned out, deliveries and emails not in the broker, and dead claims."""
    sweep_after, stuck_after = conf.sweep_after_seconds(), conf.stuck_after_seconds()
    counts = {"notifications": 0, "stuck": 0, "deliveries": 0, "emails": 0}

    # Not fanned out: never handed over (the broker was down), or handed over and quiet for sweep_after.
    waiting = Notification.objects.filter(fanned_out_at__isnull=True, enqueued_at__isnull=True) | (
        Notification.objects.filter(fanned_out_at__isnull=True, enqueued_at__lt=ago(sweep_after))
    )
    for notification_id in list(waiting.order_by("pk").values_list("pk", flat=True)[:1000]):
        Notification.objects.filter(pk=notification_id).update(enqueued_at=Now())
        if not enqueue_fanout(notification_id):
            Notification.objects.filter(pk=notification_id).update(enqueued_at=None)
            break
        counts["notifications"] += 1

    counts["stuck"] = sweep_stuck_deliveries(stuck_after)
    counts["stuck"] += SubscriberEmail.objects.filter(
        status=DeliveryStatus.SENDING, heartbeat_at__lt=ago(stuck_after)
    ).update(status=DeliveryStatus.QUEUED, claim="", next_attempt_at=None, enqueued_at=None)

    unclaimed = waiting_for_a_task(Delivery, sweep_after)
    last = 0
    while ids := list(unclaimed.filter(pk__gt=last).order_by("pk").values_list("pk", flat=True)[: conf.chunk_size()]):
        last = ids[-1]
        Delivery.objects.filter(pk__in=ids, status=DeliveryStatus.QUEUED).update(enqueued_at=Now())
        if not enqueue_send(ids):
            Delivery.objects.filter(pk__in=ids, status=DeliveryStatus.QUEUED).update(enqueued_at=None)
            break
        counts["deliveries"] += len(ids)

    for email_id in list(waiting_for_a_task(SubscriberEmail, sweep_after).values_list("pk", flat=True)[:1000]):
        SubscriberEmail.objects.filter(pk=email_id).update(enqueued_at=Now())
        if not enqueue_subscriber_email(email_id):
            SubscriberEmail.objects.filter(pk=email_id).update(enqueued_at=None)
            break
        counts["emails"] += 1

    # Imports the broker never took, or whose run died: resumed where their progress stands.
    quiet = SubscriberImport.objects.filter(
        status__in=[ImportStatus.WAITING, ImportStatus.RUNNING], heartbeat_at__lt=ago(stuck_after)
    )
    for import_id in list(quiet.values_list("pk", flat=True)[:100]):
        SubscriberImport.objects.filter(pk=import_id).update(status=ImportStatus.WAITING, heartbeat_at=Now())
        enqueue_import(import_id)

    RequestCount.objects.filter(expires_at__lt=Now()).delete()
    if any(counts.values()):
        log.info("Sweeper handed over: %s", counts)
    return counts
