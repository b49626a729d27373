"""Component groups, components and their per-day uptime rollups."""

from django.db import models

from incidents.choices import (
    COMPONENT_COLOUR,
    ComponentStatus,
)
from incidents.models.pages import Page, code_field


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
