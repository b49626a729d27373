"""Incidents, their updates, the component status history and incident templates."""

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q

from incidents.choices import (
    ACTIVE_MAINTENANCE_STATUSES,
    ALL_STATUSES,
    UNRESOLVED_STATUSES,
    ComponentStatus,
    Impact,
    IncidentStatus,
    MaintenanceStatus,
)
from incidents.models.components import Component
from incidents.models.pages import Page, code_field


class Incident(models.Model):
    page = models.ForeignKey(Page, on_delete=models.CASCADE, related_name="incidents")
    code = code_field()
    name = models.CharField(max_length=200)
    # Derived from the updates by services.incident_refresh; stored for queries and lists.
    status = models.CharField(max_length=32, choices=ALL_STATUSES, default=IncidentStatus.INVESTIGATING)
    impact = models.CharField(max_length=16, choices=Impact.choices, default=Impact.NONE)
    impact_override = models.CharField(max_length=16, choices=Impact.choices, blank=True, default="")
    start_override = models.DateTimeField(
        null=True, blank=True, help_text="Set when the incident began before its first update."
    )
    started_at = models.DateTimeField()
    monitoring_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    last_update_at = models.DateTimeField()
    # The promise of the latest update while the incident is open ("Next update expected by 18:15").
    next_update_at = models.DateTimeField(null=True, blank=True)
    components = models.ManyToManyField(Component, blank=True, related_name="incidents")
    postmortem = models.TextField(blank=True, help_text="Markdown draft; publishing it posts a postmortem update.")
    postmortem_notify = models.BooleanField(
        default=False, help_text="The draft's “Notify subscribers” choice, used when it is published."
    )
    # A scheduled maintenance is an incident with a window (Statuspage's model).
    scheduled_for = models.DateTimeField(null=True, blank=True)
    scheduled_until = models.DateTimeField(null=True, blank=True)
    scheduled_remind_prior = models.BooleanField(default=False, help_text="Remind subscribers 60 minutes before.")
    scheduled_auto_in_progress = models.BooleanField(default=False, help_text="Start it automatically on time.")
    scheduled_auto_completed = models.BooleanField(default=False, help_text="Complete it automatically on time.")
    reminder_sent_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [
            # The public page's open incidents: WHERE page_id = ? AND status IN (unresolved).
            models.Index(fields=["page", "status"], name="incident_page_status"),
            # Past incidents and history: WHERE page_id = ? ORDER BY started_at DESC.
            models.Index(fields=["page", "-started_at"], name="incident_page_started"),
            # The promise watcher: WHERE next_update_at <= ? (only open incidents have one).
            models.Index(fields=["next_update_at"], name="incident_next_update"),
            # Maintenances of a page by window, and the beat task's due transitions: WHERE scheduled_for <= ?.
            models.Index(fields=["page", "scheduled_for"], name="incident_page_scheduled"),
        ]
        # What the services assume, held by the database too (a write that slips past them fails whole).
        constraints = [
            models.CheckConstraint(
                condition=Q(scheduled_for__isnull=True)
                | Q(scheduled_until__isnull=True)
                | Q(scheduled_until__gt=F("scheduled_for")),
                name="maintenance_ends_after_it_starts",
                violation_error_message="The maintenance must end after it starts.",
            ),
            # A maintenance completed before its window (called off early) is resolved before its start.
            models.CheckConstraint(
                condition=Q(resolved_at__isnull=True)
                | Q(scheduled_for__isnull=False)
                | Q(resolved_at__gte=F("started_at")),
                name="incident_resolved_after_it_started",
                violation_error_message="An incident cannot be resolved before it started.",
            ),
        ]

    def __str__(self):
        return self.name

    @property
    def is_open(self) -> bool:
        """An incident still being worked on (maintenances are never "open incidents")."""
        return self.status in UNRESOLVED_STATUSES

    @property
    def is_maintenance(self) -> bool:
        return self.scheduled_for is not None

    @property
    def is_upcoming(self) -> bool:
        return self.status == MaintenanceStatus.SCHEDULED

    @property
    def is_active_maintenance(self) -> bool:
        return self.status in ACTIVE_MAINTENANCE_STATUSES

    def is_overdue(self, now) -> bool:
        """Open, with a promised next update whose time has passed."""
        return self.is_open and self.next_update_at is not None and self.next_update_at < now

    def duration(self, now=None) -> timedelta | None:
        """From the start to the resolution; for an open incident, to now."""
        end = self.resolved_at
        if end is None:
            if now is None:
                return None
            end = now
        return max(end - self.started_at, timedelta(0))


class IncidentUpdate(models.Model):
    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="updates")
    code = code_field()
    status = models.CharField(max_length=32, choices=ALL_STATUSES)
    body = models.TextField(help_text="Markdown.")
    display_at = models.DateTimeField(help_text="The time shown for this update; the incident's times follow it.")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    deliver_notifications = models.BooleanField(default=True)
    next_update_at = models.DateTimeField(
        null=True, blank=True, help_text="The promised time of the next update, if this update made one."
    )
    # The promise watcher claims each reminder with a conditional UPDATE of these, so each fires once.
    promise_reminder_sent_at = models.DateTimeField(null=True, blank=True, editable=False)
    promise_overdue_sent_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-display_at", "-id"]
        indexes = [
            # An incident's timeline in display order.
            models.Index(fields=["incident", "display_at"], name="update_incident_display"),
        ]

    def __str__(self):
        return f"{self.get_status_display()} update of {self.incident_id}"


class ComponentStatusChange(models.Model):
    """Every change of a component's status; the uptime history is computed from these rows."""

    component = models.ForeignKey(Component, on_delete=models.CASCADE, related_name="status_changes")
    old_status = models.CharField(max_length=32, choices=ComponentStatus.choices)
    new_status = models.CharField(max_length=32, choices=ComponentStatus.choices)
    changed_at = models.DateTimeField()
    incident = models.ForeignKey(
        Incident, on_delete=models.SET_NULL, null=True, blank=True, related_name="status_changes"
    )
    update = models.ForeignKey(
        IncidentUpdate, on_delete=models.SET_NULL, null=True, blank=True, related_name="component_changes"
    )
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)

    class Meta:
        ordering = ["changed_at", "id"]
        indexes = [
            # Uptime: a component's changes over a window, in time order.
            models.Index(fields=["component", "changed_at"], name="change_component_time"),
        ]
        # apply_component_status records nothing when the status stays the same.
        constraints = [
            models.CheckConstraint(condition=~Q(old_status=F("new_status")), name="status_change_changes_the_status"),
        ]

    def __str__(self):
        return f"{self.component_id}: {self.old_status} → {self.new_status}"


class IncidentTemplate(models.Model):
    """A prepared incident or update: name, title, body, stage and components, picked to prefill a form."""

    page = models.ForeignKey(Page, on_delete=models.CASCADE, related_name="incident_templates")
    code = code_field()
    name = models.CharField(max_length=100, help_text="How responders find it in the list.")
    title = models.CharField(max_length=200, help_text="The incident's name.")
    body = models.TextField(help_text="Markdown.")
    update_status = models.CharField(
        max_length=32, choices=IncidentStatus.choices, default=IncidentStatus.INVESTIGATING
    )
    should_send_notifications = models.BooleanField(default=True)
    components = models.ManyToManyField(
        Component,
        blank=True,
        related_name="+",
        through="IncidentTemplateComponent",
        through_fields=("template", "component"),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def component_statuses(self) -> dict[Component, str]:
        """{component: the status the template sets, or "" for affected with its status unchanged}."""
        return {link.component: link.status for link in self.component_links.select_related("component")}


class IncidentTemplateComponent(models.Model):
    """A component of a template's page that the template concerns, and the status it sets."""

    template = models.ForeignKey(IncidentTemplate, on_delete=models.CASCADE, related_name="component_links")
    component = models.ForeignKey(Component, on_delete=models.CASCADE, related_name="+")
    status = models.CharField(
        max_length=32, choices=ComponentStatus.choices, blank=True, default="",
        help_text="The status the template sets; blank: none (declaring from it suggests a partial outage).",
    )  # fmt: skip

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["template", "component"], name="one_status_per_template_component")
        ]

    def __str__(self):
        return f"{self.component}: {self.status or 'unchanged'}"

    def clean(self):
        template, component = getattr(self, "template", None), getattr(self, "component", None)
        if template is not None and component is not None and component.page_id != template.page_id:
            raise ValidationError({"component": f"{component} is not a component of the page {template.page}."})
