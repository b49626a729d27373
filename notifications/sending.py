"""The send loop of one chunk, and of one subscriber email, through a channel.

Per message (or window of endpoint messages): one conditional UPDATE that claims it and records the previous
one as sent, the rate limit, the message (rendered once per notification, personalised per subscriber), then
the send. Failures are recorded at once; a retry is scheduled once per chunk.
"""

import logging
import random
import uuid
from datetime import timedelta

from celery.exceptions import SoftTimeLimitExceeded
from django.db.models import Case, Exists, F, OuterRef, Q, Value, When
from django.db.models.functions import Now

from notifications import conf, ratelimit
from notifications.channels import ChannelError, EmailChannel, EndpointError
from notifications.emails import (
    confirmation_email,
    quarantine_email,
    welcome_email,
)
from notifications.endpoint_subscribers import subscriber_endpoint_failed, subscriber_endpoint_succeeded
from notifications.enqueue import enqueue_send, enqueue_subscriber_email
from notifications.messages import Channels, Messages
from notifications.models import (
    Delivery,
    DeliveryStatus,
    EmailKind,
    Subscriber,
    SubscriberChannel,
    SubscriberEmail,
    SubscriberState,
)
from notifications.outbox import claim_and_record, due
from notifications.services import subscriber_quarantine

log = logging.getLogger(__name__)


def backoff(attempts: int, *, endpoint: bool = False) -> float:
    """Exponential, with full jitter on the upper half (an endpoint's schedule: conf.endpoint_retries)."""
    if endpoint:
        _attempts, base, longest = conf.endpoint_retries()
    else:
        base, longest = conf.retry_base_seconds(), conf.retry_max_seconds()
    delay = min(base * 2 ** max(attempts - 1, 0), longest)
    return delay / 2 + random.uniform(0, delay / 2)  # noqa: S311 - jitter, not security


class Outcome:
    """Records failures and retries of a chunk (sent rows are recorded by claim_and_record)."""

    def __init__(self, claim: str):
        self.claim = claim
        self.retries: list[tuple[int, float]] = []

    def _row(self, delivery):
        return Delivery.objects.filter(pk=delivery.pk, claim=self.claim, status=DeliveryStatus.SENDING)

    def failed(self, delivery, error: str) -> None:
        self._row(delivery).update(status=DeliveryStatus.FAILED, last_error=error[:500])

    def later(self, delivery, error: str, at_least: float | None = None, *, endpoint: bool = False) -> None:
        limit = conf.endpoint_retries()[0] if endpoint else conf.max_attempts()
        if delivery.attempts >= limit:
            self.failed(delivery, f"gave up after {delivery.attempts} attempts: {error}")
            return
        wait = max(backoff(delivery.attempts, endpoint=endpoint), at_least or 0.0)
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


def _held_back(delivery_ids: list[int]):
    """True for an endpoint delivery that must wait: an earlier event of the same incident to the same
    subscriber, outside this chunk, is not finished yet (one endpoint gets one incident's events in order;
    within the chunk, the loop keeps the order). Read with the chunk."""
    earlier = Delivery.objects.filter(
        subscriber_id=OuterRef("subscriber_id"),
        status__in=[DeliveryStatus.QUEUED, DeliveryStatus.SENDING],
        notification_id__lt=OuterRef("notification_id"),
        notification__update__incident_id=OuterRef("notification__update__incident_id"),
    ).exclude(  # this task's own rows, which it sends in order (a row it may not get still holds the later ones)
        Q(pk__in=delivery_ids, status=DeliveryStatus.QUEUED) & due()
    )
    return Case(When(subscriber__channel=SubscriberChannel.EMAIL, then=Value(False)), default=Exists(earlier))


# What the loop reads of a subscriber, in the model's field order (Model.from_db takes values in that order).
SUBSCRIBER_NAMES = [
    field.attname
    for field in Subscriber._meta.concrete_fields
    if field.attname in {
        "id", "page_id", "code", "channel", "email", "endpoint", "signing_secret", "failures", "incident_id",
        "all_components", "state", "language",
    }
]  # fmt: skip
CHANNEL_AT = SUBSCRIBER_NAMES.index("channel")


def next_window(pending: list, window: int) -> list:
    """The next messages to send together: one email, or up to `window` endpoint messages to distinct
    subscribers (taken from the end of `pending`, which is in reverse order)."""
    first = pending.pop()
    taken = [first]
    if first.channel == SubscriberChannel.EMAIL:
        return taken
    subscribers = {first.subscriber_id}
    index = len(pending) - 1
    while index >= 0 and len(taken) < window:
        candidate = pending[index]
        if candidate.channel != SubscriberChannel.EMAIL and candidate.subscriber_id not in subscribers:
            taken.append(pending.pop(index))
            subscribers.add(candidate.subscriber_id)
        index -= 1
    return taken


class Row:
    """A row of the chunk, as the send loop reads it: its subscriber's channel, the incident of its event,
    whether an earlier event holds it back; its subscriber as a model instance is made when its window is
    built (a thousand instances up front would delay the first window)."""

    __slots__ = ("pk", "notification_id", "subscriber_id", "attempts", "event_incident", "held", "channel",
                 "_values", "_subscriber")  # fmt: skip

    def __init__(self, pk, notification_id, attempts, event_incident, held, values):
        self.pk, self.notification_id = pk, notification_id
        self.attempts, self.event_incident, self.held = attempts, event_incident, held
        self.subscriber_id, self.channel = values[0], values[CHANNEL_AT]
        self._values, self._subscriber = values, None

    @property
    def subscriber(self) -> Subscriber:
        if self._subscriber is None:
            self._subscriber = Subscriber.from_db(Delivery.objects.db, SUBSCRIBER_NAMES, self._values)
        return self._subscriber


def _chunk_rows(delivery_ids: list[int]) -> list[Row]:
    """The chunk's rows that are queued and due, in one query, read as values; each is claimed with its window."""
    rows = (
        Delivery.objects.filter(pk__in=delivery_ids, status=DeliveryStatus.QUEUED)
        .filter(due())
        .annotate(event_incident=F("notification__update__incident_id"), held=_held_back(delivery_ids))
        .order_by("pk")
        .values_list("id", "notification_id", "attempts", "event_incident", "held",
                     *(f"subscriber__{name}" for name in SUBSCRIBER_NAMES))
    )  # fmt: skip
    return [Row(*row[:5], row[5:]) for row in rows]


def send_chunk(delivery_ids: list[int], channel_class=EmailChannel) -> None:
    """Send a chunk: emails one at a time over one SMTP session; endpoint messages in windows of
    NOTIFICATIONS_ENDPOINT_WINDOW, sent in the background while the next window is claimed and built. One
    UPDATE claims each window (an email is a window of one) and records what was sent before it, so a worker
    killed mid-chunk may resend at most the one email, or the two endpoint windows, not yet recorded; the rows
    of later windows are still queued, for the broker's redelivery of the task. An endpoint's failed event
    holds back its later events of the same incident in the chunk."""
    pending = list(reversed(_chunk_rows(delivery_ids)))
    if not pending:
        return  # all sent, claimed by another run, or gone
    claim = uuid.uuid4().hex
    outcome, channels = Outcome(claim), Channels(channel_class)
    messages = Messages(channel_class)
    unrecorded: list[int] = []  # messages sent, recorded by the next claim (or at the end)
    unfinished: set[tuple] = set()  # (subscriber, incident) of an endpoint event that failed in this chunk
    window: list = []
    in_flight = None  # (rows, Sending) of the previous window
    started = claimed_all = False

    def collect(flight) -> None:
        sent, sending = flight
        for delivery, error in zip(sent, sending.collect(), strict=True):
            if error is None:
                unrecorded.append(delivery.pk)
                if delivery.subscriber.failures:
                    subscriber_endpoint_succeeded(delivery.subscriber_id)
            else:
                _failed(delivery, error, outcome, channels, pending)
                if delivery.event_incident is not None:
                    unfinished.add((delivery.subscriber_id, delivery.event_incident))

    try:
        while pending or in_flight:
            window = next_window(pending, conf.endpoint_window()) if pending else []
            claiming = [d.pk for d in window]
            if started and not claimed_all:
                # The rest of the chunk is claimed once the first window is on its way (a worker that dies
                # leaves its rows claimed: the sweeper hands them over once their heartbeat is old).
                claiming += [d.pk for d in pending]
            # Rows another run holds (the broker redelivered the task, the sweeper handed them over) are not ours.
            ours = claim_and_record(claim, claiming, unrecorded)
            unrecorded.clear()
            started = True
            if len(claiming) > len(window):
                claimed_all = True
                pending[:] = _ours(pending, ours, unfinished)
            window = _ours(window, ours, unfinished)
            channel, built = _prepare(window, channels, messages, outcome) if window else (None, [])
            window = []
            if in_flight is not None:
                flight, in_flight = in_flight, None
                collect(flight)
            built = _after_failures(built, unfinished, outcome)
            if built:
                sending = channel.start_many([m for _, m in built])
                flight = ([d for d, _ in built], sending)
                if sending.done:
                    collect(flight)  # synchronous (email): recorded by the very next statement
                else:
                    in_flight = flight
    except SoftTimeLimitExceeded:
        for rest in [*window, *pending]:
            outcome.release(rest)  # a row not claimed yet is only handed to a new task
        if in_flight is not None:
            collect(in_flight)  # what went out is recorded below
    finally:
        if unrecorded:
            claim_and_record(claim, [], unrecorded)
        channels.close()
        outcome.schedule_retries()


def _ours(rows: list, ours: dict, unfinished: set) -> list:
    """The rows this task claimed, with their attempt counted; a row another run holds keeps its incident's later
    events to the same endpoint in this chunk back (it may not be sent yet)."""
    kept = []
    for row in rows:
        if row.pk in ours:
            row.attempts = ours[row.pk]
            kept.append(row)
        elif row.event_incident is not None:
            unfinished.add((row.subscriber_id, row.event_incident))
    return kept


def _after_failures(built: list, unfinished: set, outcome: Outcome) -> list:
    """The window without the events whose earlier event of the same incident to the same subscriber failed
    in this chunk: those go back to the queue to keep the order."""
    if not unfinished:
        return built
    kept = []
    for delivery, message in built:
        if (delivery.subscriber_id, delivery.event_incident) in unfinished:
            outcome.release(delivery, wait=conf.order_wait_seconds(), reason="an earlier event is not sent yet")
        else:
            kept.append((delivery, message))
    return kept


def _prepare(window: list, channels: Channels, messages: Messages, outcome: Outcome):
    """The window's channel and (delivery, message) pairs; the others are recorded as failed, held or later."""
    kind = window[0].subscriber.channel
    ready = []
    for delivery in window:
        subscriber = delivery.subscriber
        if subscriber.state != SubscriberState.CONFIRMED or not channels.classes[kind].can_reach(subscriber):
            outcome.failed(delivery, f"subscriber is {subscriber.state}")
        elif delivery.held:
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
    if isinstance(error, EndpointError) and error.untried:
        outcome.release(delivery, wait=backoff(delivery.attempts, endpoint=True), reason=str(error))
    elif isinstance(error, EndpointError):
        if subscriber_endpoint_failed(subscriber.pk, str(error)):
            outcome.failed(delivery, f"{error}; the endpoint is quarantined")
        else:
            outcome.later(delivery, str(error), at_least=error.retry_after, endpoint=True)
    elif isinstance(error, ChannelError):
        if error.bad_address:
            subscriber_quarantine(subscriber.pk, f"SMTP {error} for {subscriber.email}")
        if error.permanent:
            outcome.failed(delivery, str(error))
        else:
            outcome.later(delivery, str(error))
        if error.session_lost:  # the connection is gone: the rest of its chunk tries again later
            rest = [d for d in pending if channels.same(d.channel, subscriber.channel)]
            for other in rest:
                outcome.later(other, "connection lost earlier in the chunk")
            pending[:] = [d for d in pending if d not in rest]
    else:
        log.error("Delivery %s failed", delivery.pk, exc_info=error)
        outcome.later(delivery, f"error: {error!r}")


# -- confirmation and welcome emails: one row, one message -------------------------------------------------


def send_subscriber_email(email_id: int, channel_class=EmailChannel) -> None:
    claim = uuid.uuid4().hex
    claimed = SubscriberEmail.objects.filter(due(), pk=email_id, status=DeliveryStatus.QUEUED)
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
