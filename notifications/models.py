"""Subscribers and the email outbox: one Notification per update, one Delivery per recipient.

The database is the source of truth; the broker only carries ids. Writes go through
notifications/services.py (subscribers) and notifications/tasks.py (deliveries).
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower

from incidents.models import (
    Component,
    ComponentGroup,
    ComponentStatusChange,
    Incident,
    IncidentUpdate,
    Page,
    code_field,
)


class SubscriberState(models.TextChoices):
    PENDING = "pending", "Pending confirmation"
    CONFIRMED = "confirmed", "Confirmed"
    QUARANTINED = "quarantined", "Quarantined"


class SubscriberChannel(models.TextChoices):
    EMAIL = "email", "Email"
    WEBHOOK = "webhook", "Webhook"
    SLACK = "slack", "Slack"
    TEAMS = "teams", "Microsoft Teams"
    DISCORD = "discord", "Discord"


# Channels that post to an endpoint URL (the SSRF guard checks it), and those a page admin adds (no opt-in).
ENDPOINT_CHANNELS = ("webhook", "slack", "teams", "discord")
CHAT_CHANNELS = ("slack", "teams", "discord")


class Subscriber(models.Model):
    """An email address or an endpoint (webhook, Slack, Teams, Discord) subscribed to a page or to one incident."""

    page = models.ForeignKey(Page, on_delete=models.CASCADE, related_name="subscribers")
    code = code_field()
    channel = models.CharField(max_length=16, choices=SubscriberChannel.choices, default=SubscriberChannel.EMAIL)
    # Webhooks: the address of failure notices (optional); chat subscribers have none.
    email = models.EmailField(max_length=254, blank=True)
    endpoint = models.URLField(max_length=500, blank=True)
    # Webhooks: the HMAC-SHA256 key of the signature header; kept to sign, shown once when created.
    signing_secret = models.CharField(max_length=64, blank=True, editable=False)
    # Endpoint failures in a row since `failing_since` (a success clears both); enough within the window quarantine.
    failures = models.PositiveIntegerField(default=0, editable=False)
    failing_since = models.DateTimeField(null=True, blank=True, editable=False)
    # Set for "subscribe to this incident": that incident's updates only, until it is resolved.
    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, null=True, blank=True, related_name="subscribers")
    all_components = models.BooleanField(default=True)
    components = models.ManyToManyField(Component, blank=True, related_name="subscribers")
    # A chosen group means all its components, including ones added later.
    groups = models.ManyToManyField(ComponentGroup, blank=True, related_name="subscribers")
    state = models.CharField(max_length=16, choices=SubscriberState.choices, default=SubscriberState.PENDING)
    # The language they subscribed in (the address's, /fr/…): their emails and link pages speak it. Empty: the
    # page's default language (an import, the API).
    language = models.CharField(max_length=8, choices=settings.LANGUAGES, blank=True, default="")
    confirmed_at = models.DateTimeField(null=True, blank=True)
    confirmation_sent_at = models.DateTimeField(null=True, blank=True)
    quarantined_at = models.DateTimeField(null=True, blank=True)
    quarantine_reason = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["email", "id"]
        constraints = [
            # Addresses compare case-insensitively: Ann@Example.com and ann@example.com are one subscriber.
            models.UniqueConstraint(
                "page",
                Lower("email"),
                condition=Q(incident__isnull=True, channel="email"),
                name="one_page_subscription",
            ),
            models.UniqueConstraint(
                "incident",
                Lower("email"),
                condition=Q(incident__isnull=False, channel="email"),
                name="one_incident_subscription",
            ),
            # An endpoint subscribes once per page.
            models.UniqueConstraint(
                fields=["page", "endpoint"], condition=~Q(channel="email"), name="one_endpoint_subscription"
            ),
        ]
        indexes = [
            # The fan-out: WHERE page_id = ? AND state = 'confirmed' ORDER BY id (keyset pages).
            models.Index(fields=["page", "state", "id"], name="subscriber_page_state"),
        ]

    def __str__(self):
        return (
            self.email if self.channel == SubscriberChannel.EMAIL else f"{self.get_channel_display()} {self.endpoint}"
        )

    @property
    def is_confirmed(self) -> bool:
        return self.state == SubscriberState.CONFIRMED


class NotificationKind(models.TextChoices):
    UPDATE = "update", "Update"
    REMINDER = "reminder", "Maintenance reminder"
    EDIT = "edit", "Edited postmortem"
    COMPONENT = "component", "Component status"


class Notification(models.Model):
    """The outbox row: created with its update (or component status change), in the same transaction; fanned out
    after commit."""

    update = models.ForeignKey(
        IncidentUpdate, on_delete=models.CASCADE, related_name="notifications", null=True, blank=True
    )
    # A component event (webhooks only): a component's status changed.
    component_change = models.OneToOneField(
        ComponentStatusChange, on_delete=models.CASCADE, related_name="notification", null=True, blank=True
    )
    # "update": the update itself; "reminder": a maintenance starts in an hour (its latest update, again);
    # "edit": a published postmortem's new text, each time the responder asks to tell subscribers.
    kind = models.CharField(max_length=16, choices=NotificationKind.choices, default=NotificationKind.UPDATE)
    page = models.ForeignKey(Page, on_delete=models.CASCADE, related_name="notifications")
    # Incident subscribers get the updates of an open incident, and the one that resolves it.
    include_incident_subscribers = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # Database time: set when handed to the broker and refreshed by the fan-out after each chunk; NULL when
    # the broker could not take it (the sweeper takes it at its next run).
    enqueued_at = models.DateTimeField(null=True, blank=True)
    fanned_out_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # The sweeper: WHERE fanned_out_at IS NULL AND created_at < deadline.
            models.Index(fields=["created_at"], condition=Q(fanned_out_at__isnull=True), name="notification_pending"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["update", "kind"], condition=~Q(kind="edit"), name="one_notification_per_update_and_kind"
            ),
        ]

    def __str__(self):
        if self.update_id is None:
            return f"Notification of component change {self.component_change_id}"
        return f"Notification of update {self.update_id}"


class DeliveryStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"


class Delivery(models.Model):
    """One email to one subscriber for one notification; claimed with a conditional UPDATE."""

    notification = models.ForeignKey(Notification, on_delete=models.CASCADE, related_name="deliveries")
    subscriber = models.ForeignKey(Subscriber, on_delete=models.CASCADE, related_name="deliveries")
    status = models.CharField(max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.QUEUED)
    attempts = models.PositiveIntegerField(default=0)
    claim = models.CharField(max_length=32, blank=True, default="")
    claimed_at = models.DateTimeField(null=True, blank=True)
    # Database time of the claim's last sign of life: set on the whole chunk when it is claimed, then on each
    # message just before it is sent. A claim whose rows all went quiet belongs to a dead or stuck worker.
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    # Not before this time (retry backoff); the sweeper re-enqueues queued rows past it.
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    enqueued_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "deliveries"
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["notification", "subscriber"], name="one_delivery_per_subscriber"),
        ]
        indexes = [
            # The sweeper: WHERE status IN ('queued', 'sending') AND enqueued_at / claimed_at < deadline.
            models.Index(
                fields=["status", "enqueued_at"],
                condition=Q(status__in=["queued", "sending"]),
                name="delivery_unfinished",
            ),
            # The send task reads back its claim: WHERE claim = ?.
            models.Index(fields=["claim"], condition=~Q(claim=""), name="delivery_claim"),
            # The sweeper's live claims: WHERE heartbeat_at >= now() - window.
            models.Index(fields=["heartbeat_at"], name="delivery_heartbeat"),
            # A send task's order check (an earlier event of the same incident to the same endpoint not finished
            # yet): one probe per row, not a scan of every unfinished row of the fan-out.
            models.Index(
                fields=["subscriber", "notification"],
                condition=Q(status__in=["queued", "sending"]),
                name="delivery_subscriber_unfinished",
            ),
        ]

    def __str__(self):
        return f"Delivery {self.pk} ({self.status})"


class EmailKind(models.TextChoices):
    CONFIRM = "confirm", "Confirmation"
    WELCOME = "welcome", "Welcome"
    QUARANTINED = "quarantined", "Endpoint quarantined"


class SubscriberEmail(models.Model):
    """A confirmation or welcome email, as a row first: a broker outage delays it and loses none.

    Claimed, sent and swept like a Delivery (notifications/outbox.py), one message per row.
    """

    subscriber = models.ForeignKey(Subscriber, on_delete=models.CASCADE, related_name="emails")
    kind = models.CharField(max_length=16, choices=EmailKind.choices)
    status = models.CharField(max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.QUEUED)
    attempts = models.PositiveIntegerField(default=0)
    claim = models.CharField(max_length=32, blank=True, default="")
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    enqueued_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            # One welcome, ever: a second confirmation click or a task run twice adds nothing.
            models.UniqueConstraint(fields=["subscriber"], condition=Q(kind="welcome"), name="one_welcome_email"),
        ]
        indexes = [
            # The sweeper: WHERE status IN ('queued', 'sending').
            models.Index(fields=["status"], condition=Q(status__in=["queued", "sending"]), name="email_unfinished"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} email to {self.subscriber_id} ({self.status})"


class RequestCount(models.Model):
    """A fixed-window request counter in the database (the subscribe limits work without Redis)."""

    key = models.CharField(max_length=300)
    window = models.BigIntegerField()
    count = models.PositiveIntegerField(default=0)
    # The sweeper deletes counters past this time.
    expires_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["key", "window"], name="one_count_per_window")]

    def __str__(self):
        return f"{self.key} @ {self.window}: {self.count}"


class ImportStatus(models.TextChoices):
    WAITING = "waiting", "Waiting"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class SubscriberImport(models.Model):
    """A CSV import, run by a task: the admin shows its progress and outcome."""

    page = models.ForeignKey(Page, on_delete=models.CASCADE, related_name="subscriber_imports")
    addresses = models.JSONField(default=list)
    invalid_lines = models.JSONField(default=list)
    active_at_once = models.BooleanField(default=True)
    status = models.CharField(max_length=16, choices=ImportStatus.choices, default=ImportStatus.WAITING)
    done = models.PositiveIntegerField(default=0)
    # Database time of the last progress; a running import quiet for the stuck window is resumed by the sweeper.
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"Import of {len(self.addresses)} addresses on page {self.page_id} ({self.status})"

    @property
    def total(self) -> int:
        return len(self.addresses)
