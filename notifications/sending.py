"""The send loop of one claimed chunk, and of one subscriber email, through a channel.

Per message: the rate limit, the message (rendered once per notification, personalised per subscriber),
one conditional UPDATE that checks the claim, refreshes its heartbeat and records the previous message as
sent, then the send. Failures are recorded at once; a retry is scheduled once per chunk.
"""

import logging
import random
import uuid
from datetime import timedelta

from celery.exceptions import SoftTimeLimitExceeded
from django.db.models import F
from django.db.models.functions import Now

from notifications import conf, ratelimit
from notifications.channels import ChannelError, EmailChannel
from notifications.emails import NotificationEmail, confirmation_email, welcome_email
from notifications.enqueue import enqueue_send, enqueue_subscriber_email
from notifications.models import (
    Delivery,
    DeliveryStatus,
    EmailKind,
    Notification,
    SubscriberEmail,
    SubscriberState,
)
from notifications.outbox import check_and_record, claim_deliveries
from notifications.services import subscriber_quarantine

log = logging.getLogger(__name__)


def backoff(attempts: int) -> float:
    """Exponential, with full jitter on the upper half."""
    delay = min(conf.retry_base_seconds() * 2 ** max(attempts - 1, 0), conf.retry_max_seconds())
    return delay / 2 + random.uniform(0, delay / 2)  # noqa: S311 - jitter, not security


class Outcome:
    """Records failures and retries of a chunk (sent rows are recorded by check_and_record)."""

    def __init__(self, claim: str):
        self.claim = claim
        self.retries: list[tuple[int, float]] = []

    def _row(self, delivery):
        return Delivery.objects.filter(pk=delivery.pk, claim=self.claim, status=DeliveryStatus.SENDING)

    def failed(self, delivery, error: str) -> None:
        self._row(delivery).update(status=DeliveryStatus.FAILED, last_error=error[:500])

    def later(self, delivery, error: str) -> None:
        if delivery.attempts >= conf.max_attempts():
            self.failed(delivery, f"gave up after {delivery.attempts} attempts: {error}")
            return
        wait = backoff(delivery.attempts)
        self._row(delivery).update(
            status=DeliveryStatus.QUEUED,
            claim="",
            next_attempt_at=Now() + timedelta(seconds=wait),
            enqueued_at=Now(),
            last_error=error[:500],
        )
        self.retries.append((delivery.pk, wait))

    def release(self, delivery) -> None:
        """Not attempted (time limit): back to the queue, the attempt not counted."""
        self._row(delivery).update(
            status=DeliveryStatus.QUEUED, claim="", enqueued_at=Now(), attempts=F("attempts") - 1
        )
        self.retries.append((delivery.pk, 0.0))

    def schedule_retries(self) -> None:
        if not self.retries:
            return
        ids = [pk for pk, _ in self.retries]
        if not enqueue_send(ids, countdown=max(wait for _, wait in self.retries) + 0.05):
            Delivery.objects.filter(pk__in=ids, status=DeliveryStatus.QUEUED).update(enqueued_at=None)


class Messages:
    """Each notification rendered once; per subscriber only the links and threading headers differ."""

    def __init__(self, channel):
        self.emails: dict[int, NotificationEmail] = {}
        self.raw = getattr(channel, "sends_raw", False)

    def build(self, delivery):
        email = self.emails.get(delivery.notification_id)
        if email is None:
            email = self.emails[delivery.notification_id] = NotificationEmail(
                Notification.objects.get(pk=delivery.notification_id)
            )
        return (self.raw and email.raw(delivery.subscriber)) or email.build(delivery.subscriber)


def send_chunk(delivery_ids: list[int], channel_class=EmailChannel) -> None:
    claim = claim_deliveries(delivery_ids)
    if claim is None:
        return  # all sent, claimed by another run, or gone
    deliveries = list(
        Delivery.objects.filter(claim=claim, status=DeliveryStatus.SENDING).select_related("subscriber").order_by("pk")
    )
    outcome, channel = Outcome(claim), channel_class()
    messages = Messages(channel)
    unrecorded = None  # the last message sent, recorded by the next check (or at the end)
    pending = list(reversed(deliveries))
    try:
        try:
            channel.open()
        except ChannelError as exc:
            for delivery in pending:
                outcome.later(delivery, str(exc))
            return
        while pending:
            delivery = pending.pop()
            subscriber = delivery.subscriber
            if subscriber.state != SubscriberState.CONFIRMED or not channel.can_reach(subscriber):
                outcome.failed(delivery, f"subscriber is {subscriber.state}")
                continue
            try:
                ratelimit.acquire()
                message = messages.build(delivery)
                ours = check_and_record(claim, delivery.pk, unrecorded)
                unrecorded = None
                if not ours:
                    continue  # the sweeper gave the row away (this task was too slow): not ours to send
                channel.send(message)
            except SoftTimeLimitExceeded:
                for rest in [delivery, *pending]:
                    outcome.release(rest)
                pending = []
            except ChannelError as exc:
                if exc.bad_address:
                    subscriber_quarantine(subscriber.pk, f"SMTP {exc} for {subscriber.email}")
                if exc.permanent:
                    outcome.failed(delivery, str(exc))
                else:
                    outcome.later(delivery, str(exc))
                if exc.session_lost:  # the connection is gone: the rest of the chunk tries again later
                    for rest in pending:
                        outcome.later(rest, "connection lost earlier in the chunk")
                    pending = []
            except Exception as exc:  # a rendering bug must not hold up the other recipients
                log.exception("Delivery %s failed", delivery.pk)
                outcome.later(delivery, f"error: {exc!r}")
            else:
                unrecorded = delivery.pk
    finally:
        if unrecorded is not None:
            check_and_record(claim, None, unrecorded)
        channel.close()
        outcome.schedule_retries()


# -- confirmation and welcome emails: one row, one message -------------------------------------------------


def send_subscriber_email(email_id: int, channel_class=EmailChannel) -> None:
    claim = uuid.uuid4().hex
    claimed = SubscriberEmail.objects.filter(pk=email_id, status=DeliveryStatus.QUEUED).filter(
        next_attempt_at__isnull=True
    ) | SubscriberEmail.objects.filter(pk=email_id, status=DeliveryStatus.QUEUED, next_attempt_at__lte=Now())
    if not claimed.update(status=DeliveryStatus.SENDING, claim=claim, heartbeat_at=Now(), attempts=F("attempts") + 1):
        return
    row = SubscriberEmail.objects.select_related("subscriber__page", "subscriber__incident").get(pk=email_id)
    mine = SubscriberEmail.objects.filter(pk=email_id, claim=claim, status=DeliveryStatus.SENDING)
    subscriber = row.subscriber
    wanted = SubscriberState.PENDING if row.kind == EmailKind.CONFIRM else SubscriberState.CONFIRMED
    if subscriber.state != wanted:
        mine.update(status=DeliveryStatus.FAILED, last_error=f"subscriber is {subscriber.state}")
        return
    message = (confirmation_email if row.kind == EmailKind.CONFIRM else welcome_email)(subscriber)
    ratelimit.acquire()  # confirmations count against the provider's limit like any other email
    try:
        with channel_class() as channel:
            channel.send(message)
    except ChannelError as exc:
        if exc.permanent or row.attempts >= conf.max_attempts():
            mine.update(status=DeliveryStatus.FAILED, last_error=str(exc)[:500])  # a pending row just expires
            return
        wait = backoff(row.attempts)
        mine.update(
            status=DeliveryStatus.QUEUED,
            claim="",
            next_attempt_at=Now() + timedelta(seconds=wait),
            enqueued_at=Now(),
            last_error=str(exc)[:500],
        )
        if not enqueue_subscriber_email(email_id, countdown=wait + 0.05):
            SubscriberEmail.objects.filter(pk=email_id, status=DeliveryStatus.QUEUED).update(enqueued_at=None)
        return
    mine.update(status=DeliveryStatus.SENT, sent_at=Now(), last_error="")
