"""Write paths for endpoint subscribers (webhooks, Slack, Teams, Discord): subscribing one (the SSRF guard
first), and counting its failures towards the quarantine. Email subscribers' paths are in notifications.services."""

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Case, F, Q, Value, When
from django.db.models.functions import Now
from django.utils import timezone

from incidents.models import Component, ComponentGroup, Page
from notifications import conf
from notifications.endpoints import EndpointRefused, resolve
from notifications.models import EmailKind, Subscriber, SubscriberChannel, SubscriberState
from notifications.outbox import ago
from notifications.services import (
    audit_state,
    check_scope,
    normalise_email,
    queue_subscriber_email,
    set_scope,
    subscriber_confirm,
    subscriber_reactivate,
)
from notifications.webhook_payloads import new_secret


def subscriber_endpoint_failed(subscriber_id: int, error: str) -> bool:
    """Count an endpoint's failure; True if this one quarantined it (its email, if any, is told once).

    Failures in a row count from the first of them; one older than the window starts the count again."""
    limit, window = conf.endpoint_quarantine()
    recent = Q(failing_since__gte=ago(window))
    Subscriber.objects.filter(pk=subscriber_id).update(
        failures=Case(When(recent, then=F("failures") + 1), default=Value(1)),
        failing_since=Case(When(recent, then=F("failing_since")), default=Now()),
    )
    with transaction.atomic():
        quarantined = Subscriber.objects.filter(
            pk=subscriber_id, state=SubscriberState.CONFIRMED, failures__gte=limit
        ).update(
            state=SubscriberState.QUARANTINED,
            quarantined_at=timezone.now(),
            quarantine_reason=f"{limit} failures in a row; the last: {error}"[:500],
        )
        subscriber = Subscriber.objects.filter(pk=subscriber_id).first() if quarantined else None
        if subscriber is not None:
            audit_state(subscriber, SubscriberState.CONFIRMED)
        if subscriber is not None and subscriber.email:
            queue_subscriber_email(subscriber, EmailKind.QUARANTINED)
    return bool(quarantined)


def subscriber_endpoint_succeeded(subscriber_id: int) -> None:
    Subscriber.objects.filter(pk=subscriber_id, failures__gt=0).update(failures=0, failing_since=None)


def subscribe_endpoint(
    *,
    page: Page,
    channel: str,
    endpoint: str,
    email: str = "",
    components: Iterable[Component] = (),
    groups: Iterable[ComponentGroup] = (),
    confirmed: bool = False,
    language: str = "",
) -> tuple[Subscriber, str | None]:
    """A webhook, Slack, Teams or Discord subscriber: (subscriber, its signing secret if it was created now).

    The endpoint passes the SSRF guard first (a DNS lookup: call this outside any transaction). A webhook
    with an email confirms it as an email subscriber does (double opt-in), unless `confirmed` (a page admin);
    chat subscribers are added by page admins and are confirmed at once. An endpoint already subscribed keeps
    its secret (never shown again) and gets the new scope while pending.
    """
    if channel not in dict(SubscriberChannel.choices) or channel == SubscriberChannel.EMAIL:
        raise ValidationError(f"channel: {channel!r} is not an endpoint channel.", code="channel")
    if len(endpoint) > 500:
        raise ValidationError("endpoint: at most 500 characters.", code="endpoint")
    email = normalise_email(email) if email else ""
    if channel == SubscriberChannel.WEBHOOK and not email and not confirmed:
        raise ValidationError("email: a webhook needs an email address (to confirm it, and for failure notices).")
    try:
        resolve(endpoint)
    except EndpointRefused as exc:
        raise ValidationError(f"endpoint: {exc}", code="endpoint") from exc
    components, groups = list(components), list(groups)
    check_scope(page.pk, components, groups)
    confirmed = confirmed or channel != SubscriberChannel.WEBHOOK
    existing = Subscriber.objects.select_for_update().filter(page=page, endpoint=endpoint)
    existing = existing.exclude(channel=SubscriberChannel.EMAIL)
    with transaction.atomic():
        subscriber = existing.first()
        secret = None
        if subscriber is None:
            secret = new_secret() if channel == SubscriberChannel.WEBHOOK else ""
            try:
                with transaction.atomic():  # a savepoint: the same endpoint at the same instant is not a 500
                    subscriber = Subscriber(
                        page=page,
                        channel=channel,
                        endpoint=endpoint,
                        email=email,
                        signing_secret=secret,
                        language=language,  # of the emails about it (its confirmation, a quarantine)
                    )
                    set_scope(subscriber, components, groups)
                secret = secret or None
            except IntegrityError:
                subscriber, secret = existing.get(), None
        elif subscriber.state != SubscriberState.CONFIRMED:
            set_scope(subscriber, components, groups)
        if subscriber.state == SubscriberState.QUARANTINED and not confirmed and email:
            # Subscribed again after a quarantine (its owner fixed it): confirmed again by email, counts cleared.
            Subscriber.objects.filter(pk=subscriber.pk).update(
                state=SubscriberState.PENDING, quarantined_at=None, quarantine_reason="", failures=0, failing_since=None
            )
            subscriber.refresh_from_db()
            secret = ""
        if confirmed and not subscriber_confirm(subscriber, welcome=False):
            subscriber_reactivate(subscriber)
        elif subscriber.state == SubscriberState.PENDING and secret is not None:
            Subscriber.objects.filter(pk=subscriber.pk).update(confirmation_sent_at=timezone.now())
            queue_subscriber_email(subscriber, EmailKind.CONFIRM)
    return subscriber, secret or None
