"""The send loop of one claimed chunk, and of one subscriber email, through a channel.

Per message: the rate limit, the message (rendered once per notification, personalised per subscriber),
one conditional UPDATE that checks the claim, refreshes its heartbeat and records the previous message as
sent, then the send. Failures are recorded at once; a retry is scheduled once per chunk.
"""

import json
import logging
import random
import uuid
from datetime import timedelta

from celery.exceptions import SoftTimeLimitExceeded
from django.db.models import F
from django.db.models.functions import Now

from notifications import chat_messages, conf, ratelimit, webhook_payloads
from notifications.channels import CHANNELS, ChannelError, EmailChannel, EndpointError, EndpointMessage
from notifications.emails import (
    TOKEN,
    NotificationEmail,
    confirmation_email,
    link_template,
    quarantine_email,
    welcome_email,
)
from notifications.enqueue import enqueue_send, enqueue_subscriber_email
from notifications.models import (
    Delivery,
    DeliveryStatus,
    EmailKind,
    Notification,
    SubscriberChannel,
    SubscriberEmail,
    SubscriberState,
)
from notifications.outbox import check_and_record_many, claim_deliveries
from notifications.services import subscriber_endpoint_failed, subscriber_endpoint_succeeded, subscriber_quarantine
from notifications.tokens import make_token

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

    def later(self, delivery, error: str, at_least: float | None = None) -> None:
        if delivery.attempts >= conf.max_attempts():
            self.failed(delivery, f"gave up after {delivery.attempts} attempts: {error}")
            return
        wait = max(backoff(delivery.attempts), at_least or 0.0)
        self._row(delivery).update(
            status=DeliveryStatus.QUEUED,
            claim="",
            next_attempt_at=Now() + timedelta(seconds=wait),
            enqueued_at=Now(),
            last_error=error[:500],
        )
        self.retries.append((delivery.pk, wait))

    def release(self, delivery, wait: float = 0.0, reason: str = "") -> None:
        """Not attempted (time limit, or held back to keep an endpoint's order): back to the queue, the attempt
        not counted."""
        self._row(delivery).update(
            status=DeliveryStatus.QUEUED,
            claim="",
            enqueued_at=Now(),
            attempts=F("attempts") - 1,
            next_attempt_at=Now() + timedelta(seconds=wait) if wait else None,
            last_error=reason or F("last_error"),
        )
        self.retries.append((delivery.pk, wait))

    def schedule_retries(self) -> None:
        if not self.retries:
            return
        ids = [pk for pk, _ in self.retries]
        if not enqueue_send(ids, countdown=max(wait for _, wait in self.retries) + 0.05):
            Delivery.objects.filter(pk__in=ids, status=DeliveryStatus.QUEUED).update(enqueued_at=None)


# The payload of each recent notification, per process: the chunks of one fan-out build it once. An event
# describes its update as it was when first built (as Statuspage's `meta.generated_at` says).
PAYLOADS: dict[tuple, object] = {}
PAYLOADS_KEPT = 32


def _remember(key: tuple, payload) -> None:
    while len(PAYLOADS) >= PAYLOADS_KEPT:
        PAYLOADS.pop(next(iter(PAYLOADS)))
    PAYLOADS[key] = payload


class Messages:
    """Each notification rendered once per channel; per subscriber only the links (and a webhook's signature)."""

    def __init__(self, email_channel_class):
        self.emails: dict[tuple[int, str], NotificationEmail] = {}
        self.payloads = PAYLOADS
        self.unsubscribe_url: str | None = None
        self.notifications: dict[int, Notification] = {}
        self.raw = getattr(email_channel_class, "sends_raw", False)
        self.email_channel_class = email_channel_class

    def notification(self, notification_id: int) -> Notification:
        """Each notification of the chunk loaded once, with its update and page."""
        notification = self.notifications.get(notification_id)
        if notification is None:
            notification = Notification.objects.select_related("update", "page").get(pk=notification_id)
            self.notifications[notification_id] = notification
        return notification

    def build(self, delivery, channel):
        subscriber = delivery.subscriber
        kind = subscriber.channel
        if kind == SubscriberChannel.EMAIL:
            key = (delivery.notification_id, subscriber.language)  # one rendering per notification and language
            email = self.emails.get(key)
            if email is None:
                email = self.emails[key] = NotificationEmail(
                    self.notification(delivery.notification_id), subscriber.language
                )
            raw = getattr(channel, "sends_raw", False)
            return (raw and email.raw(subscriber)) or email.build(subscriber)
        # Its creation time in the key too: a test database may give a rolled-back id again.
        notification = self.notification(delivery.notification_id)
        key = (notification.pk, notification.created_at, kind)
        if key not in self.payloads:
            if kind == SubscriberChannel.WEBHOOK:
                _remember(key, webhook_payloads.event_of(notification))
            else:
                _remember(key, json.dumps(chat_messages.message(kind, notification)).encode())
        if kind != SubscriberChannel.WEBHOOK:
            return EndpointMessage(subscriber.endpoint, self.payloads[key])
        if self.unsubscribe_url is None:  # reversed once: per subscriber only the token differs
            self.unsubscribe_url = link_template("unsubscribe")
        unsubscribe = self.unsubscribe_url.replace(TOKEN, make_token(subscriber, "unsubscribe", notification.page))
        body = webhook_payloads.for_subscriber(self.payloads[key], unsubscribe)
        signature = webhook_payloads.sign(subscriber.signing_secret, body)
        return EndpointMessage(subscriber.endpoint, body, {webhook_payloads.SIGNATURE_HEADER: signature})


class Channels:
    """The chunk's channels by class, each opened at its first message (a chunk of webhooks opens no SMTP)."""

    def __init__(self, email_class):
        self.classes = {**CHANNELS, SubscriberChannel.EMAIL.value: email_class}
        self.opened: dict[type, object] = {}

    def for_kind(self, kind: str):
        cls = self.classes[kind]
        channel = self.opened.get(cls)
        if channel is None:
            channel = cls()
            channel.open()  # ChannelError: this message (and its kind's rest of the chunk) later
            self.opened[cls] = channel
        return channel

    def same(self, kind_a: str, kind_b: str) -> bool:
        return self.classes[kind_a] is self.classes[kind_b]

    def close(self) -> None:
        for channel in self.opened.values():
            channel.close()


def held_back(deliveries, claim: str) -> set[int]:
    """Endpoint deliveries that must wait: an earlier event of the same incident to the same endpoint is not
    finished yet (one endpoint gets one incident's events in order)."""
    endpoint = [d for d in deliveries if d.subscriber.channel != SubscriberChannel.EMAIL]
    if not endpoint:
        return set()
    notification_ids = {d.notification_id for d in endpoint}
    earlier = list(
        Delivery.objects.filter(
            subscriber_id__in={d.subscriber_id for d in endpoint},
            status__in=[DeliveryStatus.QUEUED, DeliveryStatus.SENDING],
            notification_id__lt=max(notification_ids),
            notification__update__isnull=False,
        )
        .exclude(claim=claim)
        .values_list("subscriber_id", "notification_id", "notification__update__incident_id")
    )
    if not earlier:
        return set()
    incident_of = dict(Notification.objects.filter(pk__in=notification_ids).values_list("pk", "update__incident_id"))
    return {
        d.pk
        for d in endpoint
        if incident_of.get(d.notification_id) is not None
        and any(
            sub == d.subscriber_id and incident == incident_of[d.notification_id] and nid < d.notification_id
            for sub, nid, incident in earlier
        )
    }


SUBSCRIBER_FIELDS = [
    f"subscriber__{name}"
    for name in (
        "id", "page_id", "code", "channel", "email", "endpoint", "signing_secret", "failures", "incident_id",
        "all_components", "state", "language",
    )
]  # fmt: skip


def next_window(pending: list, window: int) -> list:
    """The next messages to send together: one email, or up to `window` endpoint messages to distinct
    subscribers (taken from the end of `pending`, which is in reverse order)."""
    first = pending.pop()
    taken = [first]
    if first.subscriber.channel == SubscriberChannel.EMAIL:
        return taken
    subscribers = {first.subscriber_id}
    index = len(pending) - 1
    while index >= 0 and len(taken) < window:
        candidate = pending[index]
        if candidate.subscriber.channel != SubscriberChannel.EMAIL and candidate.subscriber_id not in subscribers:
            taken.append(pending.pop(index))
            subscribers.add(candidate.subscriber_id)
        index -= 1
    return taken


def send_chunk(delivery_ids: list[int], channel_class=EmailChannel) -> None:
    """Send a claimed chunk: emails one at a time over one SMTP session; endpoint messages in windows of
    NOTIFICATIONS_ENDPOINT_WINDOW, sent in the background while the next window is built and checked. One
    UPDATE checks each window and records what was sent before it, so a worker killed mid-chunk may resend
    at most the one email, or the two endpoint windows, not yet recorded."""
    claim = claim_deliveries(delivery_ids)
    if claim is None:
        return  # all sent, claimed by another run, or gone
    deliveries = list(
        Delivery.objects.filter(claim=claim, status=DeliveryStatus.SENDING)
        .select_related("subscriber")
        # What the loop reads: the row's ids and attempts, and the subscriber (not its timestamps).
        .only("id", "notification_id", "subscriber_id", "attempts", *SUBSCRIBER_FIELDS)
        .order_by("pk")
    )
    outcome, channels = Outcome(claim), Channels(channel_class)
    messages = Messages(channel_class)
    waiting = held_back(deliveries, claim)
    unrecorded: list[int] = []  # messages sent, recorded by the next check (or at the end)
    pending = list(reversed(deliveries))
    window: list = []
    in_flight = None  # (deliveries, Sending) of the previous window

    def collect(flight) -> None:
        sent, sending = flight
        for delivery, error in zip(sent, sending.collect(), strict=True):
            if error is None:
                unrecorded.append(delivery.pk)
                if delivery.subscriber.failures:
                    subscriber_endpoint_succeeded(delivery.subscriber_id)
            else:
                _failed(delivery, error, outcome, channels, pending)

    try:
        while pending or in_flight:
            built, channel, window = [], None, []
            if pending:
                window = next_window(pending, conf.endpoint_window())
                channel, built = _prepare(window, channels, messages, outcome, waiting)
            ours = check_and_record_many(claim, [d.pk for d, _ in built], unrecorded)
            unrecorded.clear()
            # A row the sweeper gave away (this task was too slow) is not ours to send.
            built = [(d, m) for d, m in built if d.pk in ours]
            if in_flight is not None:
                flight, in_flight = in_flight, None
                collect(flight)
            window = []
            if built:
                sending = channel.start_many([m for _, m in built])
                flight = ([d for d, _ in built], sending)
                if sending.done:
                    collect(flight)  # synchronous (email): recorded by the very next check
                else:
                    in_flight = flight
    except SoftTimeLimitExceeded:
        for rest in [*window, *pending]:
            outcome.release(rest)
        if in_flight is not None:
            collect(in_flight)  # what went out is recorded below
    finally:
        if unrecorded:
            check_and_record_many(claim, [], unrecorded)
        channels.close()
        outcome.schedule_retries()


def _prepare(window: list, channels: Channels, messages: Messages, outcome: Outcome, waiting: set[int]):
    """The window's channel and (delivery, message) pairs; the others are recorded as failed, held or later."""
    kind = window[0].subscriber.channel
    ready = []
    for delivery in window:
        subscriber = delivery.subscriber
        if subscriber.state != SubscriberState.CONFIRMED or not channels.classes[kind].can_reach(subscriber):
            outcome.failed(delivery, f"subscriber is {subscriber.state}")
        elif delivery.pk in waiting:
            outcome.release(delivery, wait=conf.order_wait_seconds(), reason="an earlier event is not sent yet")
        else:
            ready.append(delivery)
    if not ready:
        return None, []
    try:
        channel = channels.for_kind(kind)
    except ChannelError as exc:
        for delivery in ready:
            outcome.later(delivery, str(exc))
        return None, []
    built = []
    for delivery in ready:
        try:
            built.append((delivery, messages.build(delivery, channel)))
        except Exception as exc:  # a rendering bug must not hold up the other recipients
            log.exception("Delivery %s failed", delivery.pk)
            outcome.later(delivery, f"error: {exc!r}")
    if kind == SubscriberChannel.EMAIL and built:
        ratelimit.acquire()  # the email provider's limit; endpoints have their own (429)
    return channel, built


def _failed(delivery, error: Exception, outcome: Outcome, channels: Channels, pending: list) -> None:
    subscriber = delivery.subscriber
    if isinstance(error, EndpointError):
        if subscriber_endpoint_failed(subscriber.pk, str(error)):
            outcome.failed(delivery, f"{error}; the endpoint is quarantined")
        else:
            outcome.later(delivery, str(error), at_least=error.retry_after)
    elif isinstance(error, ChannelError):
        if error.bad_address:
            subscriber_quarantine(subscriber.pk, f"SMTP {error} for {subscriber.email}")
        if error.permanent:
            outcome.failed(delivery, str(error))
        else:
            outcome.later(delivery, str(error))
        if error.session_lost:  # the connection is gone: the rest of its chunk tries again later
            rest = [d for d in pending if channels.same(d.subscriber.channel, subscriber.channel)]
            for other in rest:
                outcome.later(other, "connection lost earlier in the chunk")
            pending[:] = [d for d in pending if d not in rest]
    else:
        log.error("Delivery %s failed", delivery.pk, exc_info=error)
        outcome.later(delivery, f"error: {error!r}")


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
    wanted, build = {
        EmailKind.CONFIRM: (SubscriberState.PENDING, confirmation_email),
        EmailKind.WELCOME: (SubscriberState.CONFIRMED, welcome_email),
        EmailKind.QUARANTINED: (SubscriberState.QUARANTINED, quarantine_email),
    }[row.kind]
    if subscriber.state != wanted:
        mine.update(status=DeliveryStatus.FAILED, last_error=f"subscriber is {subscriber.state}")
        return
    message = build(subscriber)
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
