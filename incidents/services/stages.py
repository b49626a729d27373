"""What a stage does to the components, decided here for every caller (the admin, the APIs, the beat task).

- A maintenance "in progress" puts its components under maintenance; "completed" gives each back the status
  it had before, unless something else (an incident) changed it since, or another maintenance still holds it.
- Resolving an incident sets its affected components back to operational, when the caller asks for it
  (`operational_on_resolve`: the admin does; the Statuspage API does not: there, only `components` given
  change statuses).
What the caller chose explicitly for a component always wins over these presets.
"""

from collections.abc import Iterable

from incidents.choices import ACTIVE_MAINTENANCE_STATUSES, ComponentStatus, IncidentStatus, MaintenanceStatus
from incidents.models import Component, Incident


def restored_statuses(maintenance: Incident, components: Iterable[Component] | None = None) -> dict[Component, str]:
    """What each of its components goes back to (`components`: its components as locked by the caller)."""
    held = set(
        Incident.objects.filter(status__in=ACTIVE_MAINTENANCE_STATUSES, scheduled_for__isnull=False)
        .exclude(pk=maintenance.pk)
        .values_list("components", flat=True)
    )
    restore = {}
    for component in maintenance.components.all() if components is None else components:
        if component.pk in held or component.status != ComponentStatus.UNDER_MAINTENANCE:
            continue
        entered = (
            component.status_changes.filter(new_status=ComponentStatus.UNDER_MAINTENANCE)
            .order_by("-changed_at", "-id")
            .first()
        )
        if entered is not None:
            restore[component] = entered.old_status
    return restore


def may_preset(incident: Incident, status: str, operational_on_resolve: bool = False) -> bool:
    """Does this stage change components by itself (so the caller locks the incident's components first)?"""
    if incident.is_maintenance:
        return status in (MaintenanceStatus.IN_PROGRESS, MaintenanceStatus.COMPLETED)
    return status == IncidentStatus.RESOLVED and operational_on_resolve


def stage_presets(
    incident: Incident,
    status: str,
    components: Iterable[Component] | None = None,
    *,
    operational_on_resolve: bool = False,
) -> dict[Component, str]:
    """The component statuses a stage implies (`components`: the incident's components, fresh from a lock)."""
    components = list(incident.components.all() if components is None else components)
    if incident.is_maintenance:
        if status == MaintenanceStatus.IN_PROGRESS:
            return dict.fromkeys(components, ComponentStatus.UNDER_MAINTENANCE)
        if status == MaintenanceStatus.COMPLETED:
            return restored_statuses(incident, components)
        return {}
    if status == IncidentStatus.RESOLVED and operational_on_resolve:
        return {c: ComponentStatus.OPERATIONAL for c in components if c.status != ComponentStatus.OPERATIONAL}
    return {}
