"""Incident metrics: how fast a team identified and resolved, and whether it kept its promises."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from incidents.choices import IncidentStatus as I
from incidents.models import Incident


@dataclass(frozen=True)
class IncidentMetrics:
    time_to_identify: timedelta | None
    time_to_monitoring: timedelta | None
    time_to_resolution: timedelta | None
    updates: int
    promises_kept: int
    promises_broken: int
    promises_pending: int

    def as_dict(self) -> dict:
        def seconds(delta):
            return None if delta is None else int(delta.total_seconds())

        return {
            "time_to_identify": seconds(self.time_to_identify),
            "time_to_monitoring": seconds(self.time_to_monitoring),
            "time_to_resolution": seconds(self.time_to_resolution),
            "updates": self.updates,
            "promises_kept": self.promises_kept,
            "promises_broken": self.promises_broken,
            "promises_pending": self.promises_pending,
        }


def incident_metrics(incident: Incident, updates_oldest_first, now: datetime) -> IncidentMetrics:
    """From the updates in display order. A promise is kept when the next update came by its time."""
    entered: dict[str, datetime] = {}
    for update in updates_oldest_first:
        entered.setdefault(update.status, update.display_at)

    def since_start(status):
        at = entered.get(status)
        return None if at is None else max(at - incident.started_at, timedelta(0))

    kept = broken = pending = 0
    for index, update in enumerate(updates_oldest_first):
        if update.next_update_at is None:
            continue
        following = updates_oldest_first[index + 1] if index + 1 < len(updates_oldest_first) else None
        if following is not None:
            if following.display_at <= update.next_update_at:
                kept += 1
            else:
                broken += 1
        elif update.next_update_at < now:
            broken += 1
        else:
            pending += 1
    return IncidentMetrics(
        time_to_identify=since_start(I.IDENTIFIED),
        time_to_monitoring=since_start(I.MONITORING),
        time_to_resolution=(incident.resolved_at - incident.started_at) if incident.resolved_at else None,
        updates=len(updates_oldest_first),
        promises_kept=kept,
        promises_broken=broken,
        promises_pending=pending,
    )


def mean_time_to_resolve_by_component(page, now: datetime, days: int = 90) -> list[tuple[str, timedelta, int]]:
    """[(component name, mean time to resolve, incidents)] for incidents (not maintenances) resolved in the
    last `days` days."""
    resolved = Incident.objects.filter(
        page=page, resolved_at__gte=now - timedelta(days=days), scheduled_for__isnull=True
    ).prefetch_related("components")
    durations = defaultdict(list)
    names = {}
    for incident in resolved:
        for component in incident.components.all():
            durations[component.pk].append(incident.resolved_at - incident.started_at)
            names[component.pk] = (component.position, component.name)
    rows = [(names[pk][1], sum(d, timedelta(0)) / len(d), len(d)) for pk, d in durations.items()]
    return sorted(rows, key=lambda row: row[1], reverse=True)
