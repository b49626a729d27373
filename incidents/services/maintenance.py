"""Scheduled maintenance: an incident with a window, stages scheduled → in progress → verifying → completed.

Written through these service functions (and incident_post_update for the updates in between, which applies
each stage's component statuses: incidents/services/stages.py); moved along on time by the beat task in
incidents/tasks.py when the responder asked for it.
"""

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from incidents.choices import ComponentStatus, MaintenanceStatus
from incidents.models import Component, Incident, Page
from incidents.services.incidents import incident_post_update, post_update_rows
from incidents.validation import clean_component_changes, require_aware, require_text, require_window

DEFAULT_MESSAGES = {
    MaintenanceStatus.IN_PROGRESS: "The scheduled maintenance is in progress. We will post updates as it goes.",
    MaintenanceStatus.COMPLETED: "The scheduled maintenance has been completed.",
}


@transaction.atomic
def maintenance_create(
    *,
    page: Page,
    name: str,
    body: str,
    scheduled_for: datetime,
    scheduled_until: datetime,
    components: list[Component] | None = None,
    auto_in_progress: bool = True,
    auto_completed: bool = True,
    remind_prior: bool = False,
    author=None,
    deliver_notifications: bool = True,
    display_at: datetime | None = None,
    long_window: bool = False,
) -> Incident:
    """Schedule a maintenance: its first update ("Scheduled") is posted now, or at `display_at` (backfill).

    The window must not have ended yet, lies at most a year ahead, and lasts at most 14 days unless
    `long_window` confirms a longer one (incidents/validation.py).
    """
    name = require_text(name, "name", 200)
    body = require_text(body, "body")
    components = list(components or [])
    clean_component_changes(page, dict.fromkeys(components, ComponentStatus.UNDER_MAINTENANCE))
    now = require_aware(display_at, "display_at") or timezone.now()
    require_window(scheduled_for, scheduled_until, scheduled_at=now, long_window=long_window)
    incident = Incident.objects.create(
        page=page,
        name=name,
        status=MaintenanceStatus.SCHEDULED,
        started_at=scheduled_for,
        last_update_at=now,
        scheduled_for=scheduled_for,
        scheduled_until=scheduled_until,
        scheduled_auto_in_progress=auto_in_progress,
        scheduled_auto_completed=auto_completed,
        scheduled_remind_prior=remind_prior,
    )
    post_update_rows(
        incident,
        status=MaintenanceStatus.SCHEDULED,
        body=body,
        changes={},
        affected=components,
        author=author,
        display_at=now,
        deliver_notifications=deliver_notifications,
    )
    return incident


def maintenance_advance(
    *, maintenance: Incident, stage: str, body: str | None = None, author=None, deliver_notifications=True,
    display_at=None,
):  # fmt: skip
    """Move a maintenance to a stage with its default message unless given one. The stage's presets are the
    service's rule: in progress puts the affected components under maintenance, completed gives back the status
    they had."""
    return incident_post_update(
        incident=maintenance,
        status=stage,
        body=body or DEFAULT_MESSAGES[stage],
        author=author,
        deliver_notifications=deliver_notifications,
        display_at=display_at,
    )


def maintenance_start(*, maintenance: Incident, **kwargs):
    return maintenance_advance(maintenance=maintenance, stage=MaintenanceStatus.IN_PROGRESS, **kwargs)


def maintenance_complete(*, maintenance: Incident, **kwargs):
    return maintenance_advance(maintenance=maintenance, stage=MaintenanceStatus.COMPLETED, **kwargs)


@transaction.atomic
def advance_due_maintenance(maintenance_id: int, now: datetime | None = None) -> str | None:
    """Move one maintenance along if its time has come and it asked for it; returns the new stage.

    Locks the row first, so a task run twice (or two beat ticks) moves it once.
    """
    now = now or timezone.now()
    maintenance = Incident.objects.select_for_update().filter(pk=maintenance_id).first()
    if maintenance is None or not maintenance.is_maintenance:
        return None
    # The automatic stages notify subscribers when the responder asked for it when scheduling.
    first = maintenance.updates.order_by("display_at", "id").first()
    notify = first.deliver_notifications if first is not None else False
    if (
        maintenance.status == MaintenanceStatus.SCHEDULED
        and maintenance.scheduled_auto_in_progress
        and maintenance.scheduled_for <= now
    ):
        maintenance_start(maintenance=maintenance, deliver_notifications=notify)
        maintenance.refresh_from_db()
    if (
        maintenance.status in (MaintenanceStatus.IN_PROGRESS, MaintenanceStatus.VERIFYING)
        and maintenance.scheduled_auto_completed
        and maintenance.scheduled_until <= now
    ):
        maintenance_complete(maintenance=maintenance, deliver_notifications=notify)
        maintenance.refresh_from_db()
    return maintenance.status
