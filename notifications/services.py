"""Write paths for subscribers and the outbox. Network I/O never happens here: emails go through tasks."""

from collections.abc import Iterable, Iterator
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.db.models.functions import Now
from django.utils import timezone

from incidents.choices import UNRESOLVED_STATUSES
from incidents.models import Component, ComponentGroup, Incident, IncidentUpdate, Page
from notifications import conf
from notifications.enqueue import enqueue_fanout, enqueue_send, enqueue_subscriber_email
from notifications.models import (
    Delivery,
    DeliveryStatus,
    EmailKind,
    Notification,
    NotificationKind,
    Subscriber,
    SubscriberChannel,
    SubscriberEmail,
    SubscriberState,
)

# -- the outbox ------------------------------------------------------------------------------------------


def notification_for_update(update: IncidentUpdate, kind: str = NotificationKind.UPDATE) -> Notification | None:
    """Called by incidents.services._post inside its transaction: the outbox row, fanned out after commit."""
    if not update.deliver_notifications:
        return None
    incident = update.incident
    previous = (
        IncidentUpdate.objects.filter(incident_id=incident.pk)
        .exclude(pk=update.pk)
        .order_by("-display_at", "-id")
        .values_list("status", flat=True)
        .first()
    )
    # Incident subscribers follow an open incident, up to and including the update that closes it.
    include_incident = previous is None or previous in UNRESOLVED_STATUSES
    notification = Notification.objects.create(
        update=update,
        kind=kind,
        page_id=incident.page_id,
        include_incident_subscribers=include_incident,
        enqueued_at=Now(),
    )
    transaction.on_commit(lambda: hand_over_notification(notification.pk))
    return notification


def notification_for_edit(update: IncidentUpdate) -> Notification | None:
    """An edited postmortem the responder chose to announce: the same recipients as the update itself had."""
    return notification_for_update(update, kind=NotificationKind.EDIT)


def notification_for_component_change(change) -> Notification | None:
    """Called by incidents inside the transaction that changed a component's status: a component event, for
    webhooks only (email and chat go out for incidents and maintenances, as at Statuspage)."""
    if change.update is not None and not change.update.deliver_notifications:
        return None  # the update was posted silently (a backfilled or imported one): so are its changes
    page_id = change.component.page_id
    webhooks = Subscriber.objects.filter(page_id=page_id, channel=SubscriberChannel.WEBHOOK)
    if not webhooks.filter(state=SubscriberState.CONFIRMED).exists():
        return None
    notification = Notification.objects.create(
        component_change=change,
        kind=NotificationKind.COMPONENT,
        page_id=page_id,
        include_incident_subscribers=False,
        enqueued_at=Now(),
    )
    transaction.on_commit(lambda: hand_over_notification(notification.pk))
    return notification


def maintenance_reminder(maintenance: Incident) -> Notification:
    """Remind subscribers that a maintenance starts soon: its latest update again, as a reminder.

    Call it inside the transaction that claimed the reminder; the fan-out follows the commit.
    """
    latest = maintenance.updates.order_by("-display_at", "-id").first()
    notification = Notification.objects.create(
        update=latest,
        kind=NotificationKind.REMINDER,
        page_id=maintenance.page_id,
        include_incident_subscribers=True,
        enqueued_at=Now(),
    )
    transaction.on_commit(lambda: hand_over_notification(notification.pk))
    return notification


def hand_over_notification(notification_id: int) -> None:
    """After commit: to the broker, quickly; if it is away, the row says so and the next sweep does it.

    The post has committed: it never fails, nor waits long, because the broker is away.
    """
    if not enqueue_fanout(notification_id):
        Notification.objects.filter(pk=notification_id, fanned_out_at__isnull=True).update(enqueued_at=None)


def queue_subscriber_email(subscriber: Subscriber, kind: str) -> SubscriberEmail:
    """A confirmation or welcome email as a row in this transaction, handed to the broker after commit."""
    email = SubscriberEmail.objects.create(subscriber=subscriber, kind=kind, enqueued_at=Now())

    def hand_over():
        if not enqueue_subscriber_email(email.pk):
            SubscriberEmail.objects.filter(pk=email.pk, status=DeliveryStatus.QUEUED).update(enqueued_at=None)

    transaction.on_commit(hand_over)
    return email


def _recipient_sets(notification: Notification) -> tuple[QuerySet[Subscriber], QuerySet[Subscriber] | None]:
    """The page's confirmed subscribers whose scope matches, and (while it is open) the incident's own.

    A component event goes to webhooks only; a maintenance reminder to email only."""
    confirmed = Subscriber.objects.filter(page_id=notification.page_id, state=SubscriberState.CONFIRMED)
    if notification.kind == NotificationKind.COMPONENT:
        incident = None
        component_ids = [notification.component_change.component_id]
        confirmed = confirmed.filter(channel=SubscriberChannel.WEBHOOK)
    else:
        incident = notification.update.incident
        component_ids = list(incident.components.values_list("id", flat=True))
        if notification.kind == NotificationKind.REMINDER:
            confirmed = confirmed.filter(channel=SubscriberChannel.EMAIL)
    group_ids = set(
        Component.objects.filter(pk__in=component_ids, group__isnull=False).values_list("group_id", flat=True)
    )
    by_component = Subscriber.components.through.objects.filter(component_id__in=component_ids).values("subscriber_id")
    by_group = Subscriber.groups.through.objects.filter(componentgroup_id__in=group_ids).values("subscriber_id")
    page_level = confirmed.filter(incident__isnull=True).filter(
        Q(all_components=True) | Q(pk__in=by_component) | Q(pk__in=by_group)
    )
    incident_level = (
        confirmed.filter(incident_id=incident.pk)
        if incident is not None and notification.include_incident_subscribers
        else None
    )
    return page_level, incident_level


def recipient_chunks(notification: Notification, size: int, *, after: int = 0) -> Iterator[list[tuple[int, str]]]:
    """The recipients as (id, channel), in chunks of at most `size`, each address once; memory stays flat.

    Keyset pages over the page's subscribers (from the id after `after`: a resumed fan-out), then the
    incident's own subscribers (few), leaving out addresses that already get the update through the page.
    """
    page_level, incident_level = _recipient_sets(notification)
    last = after
    while rows := list(page_level.filter(pk__gt=last).order_by("pk").values_list("pk", "channel")[:size]):
        last = rows[-1][0]
        yield rows
    if incident_level is None:
        return
    last = 0
    while rows := list(incident_level.filter(pk__gt=last).order_by("pk").values_list("pk", "email", "channel")[:size]):
        last = rows[-1][0]
        addresses = Q()
        for _, email, _ in rows:
            addresses |= Q(email__iexact=email)
        covered = {email.lower() for email in page_level.filter(addresses).values_list("email", flat=True)}
        if kept := [(pk, channel) for pk, email, channel in rows if email.lower() not in covered]:
            yield kept


# -- subscribers -----------------------------------------------------------------------------------------


def set_scope(subscriber: Subscriber, components: Iterable[Component], groups: Iterable[ComponentGroup]) -> None:
    groups = list(groups)
    # A chosen group covers its components (and ones added later): they are not chosen one by one too.
    covered = {group.pk for group in groups}
    components = [component for component in components if component.group_id not in covered]
    if subscriber.incident_id is None:
        subscriber.all_components = not components and not groups
    subscriber.save()
    subscriber.components.set(components)
    subscriber.groups.set(groups)


def normalise_email(email: str) -> str:
    """Spaces trimmed and the domain lower-cased; the local part is kept (compared case-insensitively)."""
    local, at, domain = email.strip().rpartition("@")
    return f"{local}@{domain.lower()}" if at else email.strip()


@transaction.atomic
def subscribe(
    *,
    page: Page,
    email: str,
    components: Iterable[Component] = (),
    groups: Iterable[ComponentGroup] = (),
    incident: Incident | None = None,
    confirmed: bool = False,
    language: str = "",
) -> Subscriber | None:
    """Subscribe an address. The caller answers the same whatever happens here (no enumeration).

    A new or pending address gets a confirmation email, at most one per CONFIRMATION_INTERVAL; an address
    already confirmed gets nothing. `confirmed=True` (the operator's CSV import) skips the opt-in.
    `language`: the one they subscribed in (empty: the page's default); a pending address takes the latest.
    """
    email = normalise_email(email)
    if incident is not None and (incident.page_id != page.pk or not incident.is_open):
        return None
    lookup = {"page": page, "email__iexact": email, "incident": incident}
    subscriber = Subscriber.objects.select_for_update().filter(**lookup).first()
    if subscriber is None:
        try:
            with transaction.atomic():  # a savepoint: the same address at the same instant is not a 500
                subscriber = Subscriber(page=page, email=email, incident=incident, language=language)
                set_scope(subscriber, components, groups)
        except IntegrityError:
            subscriber = Subscriber.objects.select_for_update().filter(**lookup).first()
            if subscriber is None:
                raise
    elif subscriber.state == SubscriberState.PENDING:
        subscriber.language = language
        set_scope(subscriber, components, groups)
    elif subscriber.state == SubscriberState.QUARANTINED:
        subscriber.language = language
        # Its mail server refused our emails; asking again starts the double opt-in again, with this choice
        # and a confirmation now (the pending address's interval applies from there).
        subscriber.state, subscriber.quarantined_at, subscriber.quarantine_reason = SubscriberState.PENDING, None, ""
        subscriber.confirmation_sent_at = None
        # Confirming again earns a welcome again (one per subscriber: the earlier one's row goes).
        SubscriberEmail.objects.filter(subscriber=subscriber, kind=EmailKind.WELCOME).delete()
        set_scope(subscriber, components, groups)
    if confirmed and subscriber.state == SubscriberState.PENDING:
        subscriber_confirm(subscriber, welcome=False)  # the operator's import: no email at all
        return subscriber
    if subscriber.state != SubscriberState.PENDING:
        return subscriber
    now = timezone.now()
    recent = now - timedelta(seconds=conf.confirmation_interval())
    if subscriber.confirmation_sent_at is None or subscriber.confirmation_sent_at <= recent:
        Subscriber.objects.filter(pk=subscriber.pk).update(confirmation_sent_at=now)
        subscriber.confirmation_sent_at = now
        queue_subscriber_email(subscriber, EmailKind.CONFIRM)
    return subscriber


def subscriber_confirm(subscriber: Subscriber, *, welcome: bool = True) -> bool:
    """Confirm a pending address; True if this call confirmed it.

    A conditional UPDATE: of two clicks at once, one confirms, and only that one queues the welcome
    email (a row, handed over after commit), so it is sent once.
    """
    if subscriber.state != SubscriberState.PENDING:
        return False
    now = timezone.now()
    changed = Subscriber.objects.filter(pk=subscriber.pk, state=SubscriberState.PENDING).update(
        state=SubscriberState.CONFIRMED, confirmed_at=now, updated_at=now
    )
    subscriber.refresh_from_db(fields=["state", "confirmed_at", "updated_at"])
    if changed:
        audit_state(subscriber, SubscriberState.PENDING)
    if changed and welcome:
        queue_subscriber_email(subscriber, EmailKind.WELCOME)
    return bool(changed)


def check_scope(page_id: int, components: Iterable[Component], groups: Iterable[ComponentGroup]) -> None:
    """A subscriber chooses among its own page's components and groups only."""
    for item in [*components, *groups]:
        if item.page_id != page_id:
            raise ValidationError(f"{item} does not belong to the subscriber's page.", code="other_page")


@transaction.atomic
def subscriber_set_components(
    *, subscriber: Subscriber, components: Iterable[Component], groups: Iterable[ComponentGroup]
) -> Subscriber:
    """Change a page subscriber's scope: none chosen means all components."""
    components, groups = list(components), list(groups)
    check_scope(subscriber.page_id, components, groups)
    set_scope(subscriber, components, groups)
    return subscriber


def subscriber_unsubscribe(subscriber: Subscriber) -> None:
    """Unsubscribing deletes the row (and its pending deliveries): nothing more is ever sent to it."""
    Subscriber.objects.filter(pk=subscriber.pk).delete()


def subscriber_quarantine(subscriber_id: int, reason: str) -> int:
    before = Subscriber.objects.filter(pk=subscriber_id).values_list("state", flat=True).first()
    changed = Subscriber.objects.filter(pk=subscriber_id).update(
        state=SubscriberState.QUARANTINED, quarantined_at=timezone.now(), quarantine_reason=reason[:500]
    )
    if changed and before != SubscriberState.QUARANTINED:
        audit_state(Subscriber.objects.get(pk=subscriber_id), before)
    return changed


def audit_state(subscriber: Subscriber, before: str) -> None:
    """A state change made by a conditional UPDATE (no save signal sees it) goes to the audit log."""
    from accounts import audit

    after = {"state": subscriber.state}
    if subscriber.state == SubscriberState.QUARANTINED:
        after["quarantine_reason"] = subscriber.quarantine_reason
    audit.record_change(subscriber, {"state": before}, after)


def subscriber_reactivate(subscriber: Subscriber) -> bool:
    """A quarantined endpoint (its owner fixed it) gets events again; its failure count starts over."""
    changed = Subscriber.objects.filter(pk=subscriber.pk, state=SubscriberState.QUARANTINED).update(
        state=SubscriberState.CONFIRMED, quarantined_at=None, quarantine_reason="", failures=0, failing_since=None
    )
    subscriber.refresh_from_db()
    if changed:
        audit_state(subscriber, SubscriberState.QUARANTINED)
    return bool(changed)


def retry_failed(notification_ids: Iterable[int]) -> int:
    """The admin's "retry failed": failed deliveries to subscribers still confirmed go back to the queue."""
    rows = Delivery.objects.filter(
        notification_id__in=list(notification_ids),
        status=DeliveryStatus.FAILED,
        subscriber__state=SubscriberState.CONFIRMED,
    )
    ids = list(rows.values_list("pk", flat=True))
    Delivery.objects.filter(pk__in=ids, status=DeliveryStatus.FAILED).update(
        status=DeliveryStatus.QUEUED, attempts=0, next_attempt_at=None, enqueued_at=Now(), last_error=""
    )
    size = conf.chunk_size()
    for start in range(0, len(ids), size):
        chunk = ids[start : start + size]
        if not enqueue_send(chunk):  # the sweeper hands them over at its next run
            Delivery.objects.filter(pk__in=chunk, status=DeliveryStatus.QUEUED).update(enqueued_at=None)
    return len(ids)


def subscribers_reactivate(subscribers: QuerySet[Subscriber]) -> int:
    """Take quarantined subscribers out of quarantine (their address works again): one that had confirmed is
    confirmed again, at once and without an email; the others are pending as before. Returns how many."""
    quarantined = subscribers.filter(state=SubscriberState.QUARANTINED)
    ids = list(quarantined.values_list("pk", flat=True))
    now = timezone.now()
    reset = {"quarantined_at": None, "quarantine_reason": "", "updated_at": now}
    count = quarantined.filter(confirmed_at__isnull=False).update(state=SubscriberState.CONFIRMED, **reset)
    count += quarantined.update(state=SubscriberState.PENDING, **reset)
    for subscriber in Subscriber.objects.filter(pk__in=ids).exclude(state=SubscriberState.QUARANTINED):
        audit_state(subscriber, SubscriberState.QUARANTINED)
    return count
