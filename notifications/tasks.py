"""Celery tasks of the outbox. They take ids, re-read rows, and exit quietly when a row is gone.

fanout(notification)  → Delivery rows in bulk, one send task per chunk
send_deliveries(ids)  → claim (conditional UPDATE), render, send over one SMTP connection, record
send_confirmation / send_welcome(subscriber) → the double opt-in email, and the welcome after it
sweep()               → (beat) re-enqueue what a broker outage or a dead worker left behind
"""

import contextlib
import logging
import random
import smtplib
import uuid
from datetime import timedelta

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.core.cache import cache
from django.core.mail import get_connection
from django.db.models import F, Q
from django.utils import timezone

from notifications import conf, ratelimit
from notifications.emails import NotificationEmail, confirmation_email, welcome_email
from notifications.models import Delivery, DeliveryStatus, Notification, Subscriber, SubscriberState
from notifications.services import enqueue_fanout, recipient_chunks, subscriber_quarantine

log = logging.getLogger(__name__)


def enqueue_send(delivery_ids: list[int], countdown: float | None = None) -> bool:
    """Hand a chunk to the broker; False if it is away (the sweeper picks the rows up later)."""
    try:
        send_deliveries.apply_async((delivery_ids,), countdown=countdown, retry=True, retry_policy={"max_retries": 1})
    except Exception:
        log.warning("Could not enqueue %d deliveries; the sweeper will retry", len(delivery_ids))
        return False
    return True


@shared_task(ignore_result=True)
def fanout(notification_id: int) -> None:
    notification = Notification.objects.select_related("update__incident").filter(pk=notification_id).first()
    if notification is None or notification.fanned_out_at is not None:
        return
    for chunk in recipient_chunks(notification, conf.chunk_size()):
        now = timezone.now()
        Delivery.objects.bulk_create(
            [Delivery(notification_id=notification_id, subscriber_id=s, enqueued_at=now) for s in chunk],
            ignore_conflicts=True,
        )
        # On a re-run (sweeper, redelivery) only the rows still queued are handed on; the claim does the rest.
        queued = list(
            Delivery.objects.filter(
                notification_id=notification_id, subscriber_id__in=chunk, status=DeliveryStatus.QUEUED
            ).values_list("pk", flat=True)
        )
        if queued:
            send_deliveries.apply_async((queued,))  # a broker error fails the task; the sweeper re-runs it
    Notification.objects.filter(pk=notification_id).update(fanned_out_at=timezone.now())


def _backoff(attempts: int) -> float:
    """Exponential, with full jitter on the upper half."""
    delay = min(conf.retry_base_seconds() * 2 ** max(attempts - 1, 0), conf.retry_max_seconds())
    return delay / 2 + random.uniform(0, delay / 2)  # noqa: S311 - jitter, not security


def _claim(delivery_ids: list[int]) -> str | None:
    claim = uuid.uuid4().hex
    now = timezone.now()
    claimed = (
        Delivery.objects.filter(pk__in=delivery_ids, status=DeliveryStatus.QUEUED)
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .update(status=DeliveryStatus.SENDING, claim=claim, claimed_at=now, attempts=F("attempts") + 1)
    )
    return claim if claimed else None


class Outcome:
    """Records each delivery's result right after its send: a crash resends at most the one in flight."""

    def __init__(self, claim: str):
        self.claim = claim
        self.retry_at: list = []

    def _row(self, delivery):
        return Delivery.objects.filter(pk=delivery.pk, claim=self.claim, status=DeliveryStatus.SENDING)

    def sent(self, delivery) -> None:
        self._row(delivery).update(status=DeliveryStatus.SENT, sent_at=timezone.now(), last_error="")

    def failed(self, delivery, error: str) -> None:
        self._row(delivery).update(status=DeliveryStatus.FAILED, last_error=error[:500])

    def later(self, delivery, error: str) -> None:
        if delivery.attempts >= conf.max_attempts():
            self.failed(delivery, f"gave up after {delivery.attempts} attempts: {error}")
            return
        at = timezone.now() + timedelta(seconds=_backoff(delivery.attempts))
        self._row(delivery).update(
            status=DeliveryStatus.QUEUED,
            claim="",
            next_attempt_at=at,
            enqueued_at=timezone.now(),
            last_error=error[:500],
        )
        self.retry_at.append((delivery.pk, at))

    def release(self, delivery) -> None:
        """Not attempted (time limit): back to the queue, the attempt not counted."""
        self._row(delivery).update(status=DeliveryStatus.QUEUED, claim="", attempts=F("attempts") - 1)
        self.retry_at.append((delivery.pk, timezone.now()))

    def schedule_retries(self) -> None:
        if self.retry_at:
            latest = max(at for _, at in self.retry_at)
            countdown = max((latest - timezone.now()).total_seconds(), 0) + 0.05
            enqueue_send([pk for pk, _ in self.retry_at], countdown=countdown)


def _smtp_code(error: smtplib.SMTPException) -> int | None:
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in error.recipients.values()]
        return max(codes) if codes else None
    return getattr(error, "smtp_code", None)


@shared_task(ignore_result=True)
def send_deliveries(delivery_ids: list[int]) -> None:
    claim = _claim(delivery_ids)
    if claim is None:
        return  # all sent, claimed by another run, or gone
    deliveries = list(Delivery.objects.filter(claim=claim, status=DeliveryStatus.SENDING).select_related("subscriber"))
    outcome = Outcome(claim)
    emails: dict[int, NotificationEmail] = {}
    connection = get_connection(fail_silently=False)
    pending = list(deliveries)
    try:
        try:
            connection.open()
        except Exception as exc:
            for delivery in pending:
                outcome.later(delivery, f"connection: {exc}")
            return
        while pending:
            delivery = pending.pop(0)
            subscriber = delivery.subscriber
            if subscriber.state != SubscriberState.CONFIRMED:
                outcome.failed(delivery, f"subscriber is {subscriber.state}")
                continue
            try:
                ratelimit.acquire()
                if delivery.notification_id not in emails:
                    notification = Notification.objects.get(pk=delivery.notification_id)
                    emails[delivery.notification_id] = NotificationEmail(notification)
                message = emails[delivery.notification_id].build(subscriber)
                connection.send_messages([message])
            except SoftTimeLimitExceeded:
                outcome.release(delivery)
                for rest in pending:
                    outcome.release(rest)
                pending = []
            except smtplib.SMTPRecipientsRefused as exc:
                code = _smtp_code(exc)
                if code is not None and code >= 500:
                    outcome.failed(delivery, f"refused: {code}")
                    subscriber_quarantine(subscriber.pk, f"SMTP {code} for {subscriber.email}: {exc.recipients}")
                else:
                    outcome.later(delivery, f"refused: {code}")
            except smtplib.SMTPResponseException as exc:
                if exc.smtp_code >= 500:
                    outcome.failed(delivery, f"{exc.smtp_code} {exc.smtp_error!r}")
                else:
                    outcome.later(delivery, f"{exc.smtp_code} {exc.smtp_error!r}")
            except OSError as exc:  # SMTPServerDisconnected, timeouts, resets (after the SMTP replies above)
                # The connection is gone: this one and the rest of the chunk try again later.
                outcome.later(delivery, f"connection: {exc}")
                for rest in pending:
                    outcome.later(rest, "connection lost earlier in the chunk")
                pending = []
            except Exception as exc:  # a rendering bug must not hold up the other recipients
                log.exception("Delivery %s failed", delivery.pk)
                outcome.later(delivery, f"error: {exc!r}")
            else:
                outcome.sent(delivery)
    finally:
        with contextlib.suppress(Exception):  # closing a broken connection
            connection.close()
        outcome.schedule_retries()


@shared_task(bind=True, ignore_result=True, max_retries=5)
def send_confirmation(self, subscriber_id: int) -> None:
    subscriber = Subscriber.objects.select_related("page", "incident").filter(pk=subscriber_id).first()
    if subscriber is None or subscriber.state != SubscriberState.PENDING:
        return
    try:
        confirmation_email(subscriber).send()
    except (smtplib.SMTPException, OSError) as exc:
        code = _smtp_code(exc) if isinstance(exc, smtplib.SMTPException) else None
        if code is not None and code >= 500:
            return  # the address does not exist; the pending row expires unconfirmed
        raise self.retry(exc=exc, countdown=_backoff(self.request.retries + 1)) from exc


@shared_task(bind=True, ignore_result=True, max_retries=5)
def send_welcome(self, subscriber_id: int) -> None:
    """The welcome email of a subscriber who just confirmed: what they get, and the manage link.

    Enqueued once, by the confirmation that changed the row. A run of the task again (a redelivery,
    a second enqueue) finds the mark in the shared cache and sends nothing.
    """
    subscriber = Subscriber.objects.select_related("page", "incident").filter(pk=subscriber_id).first()
    if subscriber is None or subscriber.state != SubscriberState.CONFIRMED:
        return
    mark = f"notifications:welcomed:{subscriber.code}"
    if cache.add(mark, 1, timeout=30 * 86400) is False:  # None: the cache is down; sending beats losing it
        return
    try:
        welcome_email(subscriber).send()
    except (smtplib.SMTPException, OSError) as exc:
        code = _smtp_code(exc) if isinstance(exc, smtplib.SMTPException) else None
        if code is not None and code >= 500:
            return
        cache.delete(mark)  # not sent: the retry may send it
        raise self.retry(exc=exc, countdown=_backoff(self.request.retries + 1)) from exc


@shared_task(ignore_result=True)
def sweep() -> dict:
    """Re-enqueue notifications not fanned out and deliveries unclaimed or stuck in "sending"."""
    now = timezone.now()
    cutoff = now - timedelta(seconds=conf.sweep_after_seconds())
    stuck = now - timedelta(seconds=conf.stuck_after_seconds())
    counts = {"notifications": 0, "stuck": 0, "deliveries": 0}

    waiting = Notification.objects.filter(fanned_out_at__isnull=True, created_at__lt=cutoff).filter(
        Q(enqueued_at__isnull=True) | Q(enqueued_at__lt=cutoff)
    )
    for notification_id in list(waiting.values_list("pk", flat=True)[:1000]):
        Notification.objects.filter(pk=notification_id).update(enqueued_at=now)
        enqueue_fanout(notification_id)
        counts["notifications"] += 1

    counts["stuck"] = Delivery.objects.filter(status=DeliveryStatus.SENDING, claimed_at__lt=stuck).update(
        status=DeliveryStatus.QUEUED, claim="", next_attempt_at=None, enqueued_at=None
    )

    unclaimed = Delivery.objects.filter(status=DeliveryStatus.QUEUED).filter(
        Q(next_attempt_at__isnull=True, enqueued_at__isnull=True)
        | Q(next_attempt_at__isnull=True, enqueued_at__lt=cutoff)
        | Q(next_attempt_at__lt=cutoff)
    )
    last = 0
    while True:
        ids = list(unclaimed.filter(pk__gt=last).order_by("pk").values_list("pk", flat=True)[: conf.chunk_size()])
        if not ids:
            break
        last = ids[-1]
        Delivery.objects.filter(pk__in=ids, status=DeliveryStatus.QUEUED).update(enqueued_at=now, next_attempt_at=None)
        if not enqueue_send(ids):
            break
        counts["deliveries"] += len(ids)
    if any(counts.values()):
        log.info("Sweeper re-enqueued: %s", counts)
    return counts
