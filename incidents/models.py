"""The domain: pages, component groups, components and their status history, incidents and updates.

Writes go through incidents/services.py; the methods here answer pure questions about state.
"""

from datetime import timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import F, Q
from django.urls import reverse

from incidents.choices import (
    ACTIVE_MAINTENANCE_STATUSES,
    ALL_STATUSES,
    COMPONENT_COLOUR,
    UNRESOLVED_STATUSES,
    ComponentStatus,
    Impact,
    IncidentStatus,
    MaintenanceStatus,
    Visibility,
)
from incidents.codes import CODE_RE, new_code
from incidents.languages import LOCALIZED, prefixed

code_validator = RegexValidator(CODE_RE, "A code is 12 lowercase letters or digits.")


def validate_time_zone(value: str) -> None:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationError(f"Unknown time zone {value!r}; use an IANA name such as Europe/Paris.") from None


def split_domains(text: str) -> list[str]:
    """Domains one per line (or comma-separated), lowercased, without a leading @."""
    return [d.strip().lower().lstrip("@") for d in (text or "").replace(",", "\n").splitlines() if d.strip()]


def code_field():
    return models.CharField(max_length=12, unique=True, default=new_code, editable=False, validators=[code_validator])


class Page(models.Model):
    code = code_field()
    name = models.CharField(max_length=100)
    time_zone = models.CharField(max_length=63, default="UTC", validators=[validate_time_zone])
    url = models.URLField(blank=True, help_text="The company's own website, linked from the page header.")
    support_url = models.CharField(
        max_length=200,
        blank=True,
        validators=[RegexValidator(r"^(https?://|mailto:)\S+$", "Use an http(s):// URL or a mailto: address.")],
        help_text="Where customers get help: a URL or mailto: address, shown in the footer.",
    )
    # The logo's content type, empty without one: all the header needs, read with the page row. The
    # image itself is a PageLogo row, so that no page row read (select_related("page")) carries it.
    logo_type = models.CharField(max_length=32, blank=True, editable=False)
    accent_colour = models.CharField(
        max_length=7,
        default="#1f5fbf",
        validators=[RegexValidator(r"^#[0-9a-fA-F]{6}$", "Use a hex colour such as #1f5fbf.")],
        help_text="Links and buttons on the public page.",
    )
    is_default = models.BooleanField(default=False, help_text="Served at / (the others under /p/<id>/).")
    default_language = models.CharField(
        max_length=8,
        choices=settings.LANGUAGES,
        default="en",
        help_text="The language of the page's addresses without a language code (/, /p/<id>/); every language "
        "is also at its own address (/fr/, /fr/p/<id>/).",
    )
    # Who may read it (incidents/access.py): a non-public page is never cached for all, published or listed.
    visibility = models.CharField(max_length=16, choices=Visibility.choices, default=Visibility.PUBLIC)
    # The shared password of a "password" page, hashed by django.contrib.auth.hashers (set through page_services).
    password_hash = models.CharField(max_length=128, blank=True, editable=False)
    allowed_domains = models.TextField(
        blank=True,
        help_text="For an “email domains” page: one domain per line (example.com); an address there gets a link.",
    )
    # Bumped after every committed change; public responses are cached and ETagged by it.
    version = models.PositiveBigIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["is_default"], condition=Q(is_default=True), name="one_default_page"),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self) -> str:
        return self.public_url("home")

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    @property
    def is_public(self) -> bool:
        return self.visibility == Visibility.PUBLIC

    def domain_list(self) -> list[str]:
        return [
            d.strip().lower().lstrip("@") for d in self.allowed_domains.replace(",", "\n").splitlines() if d.strip()
        ]

    def allows_domain(self, email: str) -> bool:
        return self.visibility == Visibility.EMAIL_DOMAIN and email.rpartition("@")[2].lower() in self.domain_list()

    def public_url(self, name: str, **kwargs) -> str:
        """The path of one of this page's public views, at / for the default page or under /p/<id>/, in the
        language of the address being rendered (/fr/…, incidents/languages.py)."""
        path = _public_path(None if self.is_default else self.code, name, tuple(sorted(kwargs.items())))
        return prefixed(path) if name in LOCALIZED else path


@lru_cache(maxsize=8192)
def _public_path(page_code: str | None, name: str, kwargs: tuple) -> str:
    """Reversing is slow and the URLconf never changes while a process runs: a page lists hundreds of links."""
    if page_code is None:
        return reverse(name, kwargs=dict(kwargs))
    return reverse(f"page-{name}", kwargs={"page_code": page_code, **dict(kwargs)})


class PageLogo(models.Model):
    """The image shown in the public page's header (its type is Page.logo_type): read only by the logo view.

    Written by incidents.page_services.page_set_logo, which checks it is a PNG, JPEG, GIF or WebP image."""

    page = models.OneToOneField(Page, on_delete=models.CASCADE, primary_key=True, related_name="logo")
    data = models.BinaryField()
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"Logo of {self.page_id}"


class ComponentGroup(models.Model):
    page = models.ForeignKey(Page, on_delete=models.CASCADE, related_name="groups")
    code = code_field()
    name = models.CharField(max_length=100)
    description = models.TextField(blank=True)
    position = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["position", "id"]
        indexes = [
            # The public page lists a page's groups in order.
            models.Index(fields=["page", "position"], name="group_page_position"),
        ]

    def __str__(self):
        return self.name


class Component(models.Model):
    page = models.ForeignKey(Page, on_delete=models.CASCADE, related_name="components")
    group = models.ForeignKey(
        ComponentGroup, on_delete=models.SET_NULL, null=True, blank=True, related_name="components"
    )
    code = code_field()
    name = models.CharField(max_length=100)
    description = models.TextField(blank=True)
    status = models.CharField(max_length=32, choices=ComponentStatus.choices, default=ComponentStatus.OPERATIONAL)
    position = models.PositiveIntegerField(default=0)
    showcase = models.BooleanField(default=True, help_text="Show the uptime bars for this component.")
    only_show_if_degraded = models.BooleanField(default=False)
    start_date = models.DateField(null=True, blank=True, help_text="When the component came into service.")
    # The change that set the current status (its time and incident): the uptime's still-open segment.
    status_change = models.ForeignKey(
        "ComponentStatusChange", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", editable=False
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["position", "id"]
        indexes = [
            # The public page lists a page's components in order.
            models.Index(fields=["page", "position"], name="component_page_position"),
        ]

    def __str__(self):
        return self.name

    @property
    def colour(self) -> str:
        return COMPONENT_COLOUR[self.status]

    @property
    def is_visible(self) -> bool:
        return not self.only_show_if_degraded or self.status != ComponentStatus.OPERATIONAL


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


class ComponentDay(models.Model):
    """Seconds a component spent in each status other than operational on one day (in its page's time
    zone): the uptime bars read these rollups instead of replaying the whole status history.

    Kept by the services as each status change closes a segment; rebuilt from ComponentStatusChange rows
    when history is rewritten (a moved update, a new time zone) by incidents.uptime_rollups.rebuild_component_days.
    """

    component = models.ForeignKey(Component, on_delete=models.CASCADE, related_name="days")
    day = models.DateField()
    major = models.FloatField(default=0)
    partial = models.FloatField(default=0)
    degraded = models.FloatField(default=0)
    maintenance = models.FloatField(default=0)
    # The codes of the incidents that set these statuses, in order. Their names are read when the days are
    # (incidents.uptime), so a renamed incident shows its new name and a deleted one drops out.
    incident_codes = models.JSONField(default=list, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["component", "day"], name="one_day_per_component")]
        # The bars: WHERE component_id IN (...) AND day >= ? (served by the unique index on component, day).

    def __str__(self):
        return f"{self.component_id} on {self.day}"


class AudienceGroup(models.Model):
    """A group of a page's viewers and what they see: its components, and its incidents (those listed here and
    those affecting one of its components). A viewer in a group sees nothing else of the page."""

    page = models.ForeignKey(Page, on_delete=models.CASCADE, related_name="audience_groups")
    name = models.CharField(max_length=100)
    components = models.ManyToManyField(Component, blank=True, related_name="audience_groups")
    incidents = models.ManyToManyField(Incident, blank=True, related_name="audience_groups")

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["page", "name"], name="one_audience_group_name_per_page")]

    def __str__(self):
        return self.name


class Viewer(models.Model):
    """Someone named to read a non-public page: they sign in with a link sent to their address."""

    page = models.ForeignKey(Page, on_delete=models.CASCADE, related_name="viewers")
    email = models.EmailField()  # stored lowercased (incidents.page_services)
    group = models.ForeignKey(
        AudienceGroup, on_delete=models.SET_NULL, null=True, blank=True, related_name="viewers",
        help_text="Empty: the viewer sees the whole page.",
    )  # fmt: skip
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["email"]
        # The access check: WHERE page_id = ? AND email = ? (the unique index).
        constraints = [models.UniqueConstraint(fields=["page", "email"], name="one_viewer_per_page_email")]

    def __str__(self):
        return self.email

    def clean(self):
        self.email = self.email.strip().lower()
        if self.group_id is not None and self.group.page_id != self.page_id:
            raise ValidationError({"group": "The group belongs to another page."})
