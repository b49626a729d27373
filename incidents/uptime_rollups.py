"""The uptime rollups' writes: a closed segment added to its days, and a component's days rebuilt.

The services call record_segment inside their transaction when a status change ends the previous status;
rebuild_component_days replays the raw history (incidents/uptime_replay.py) when it was
rewritten. The bars read these rows in incidents/uptime.py.
"""

from datetime import datetime, timedelta

from incidents.models import ComponentDay, ComponentStatusChange
from incidents.uptime import ROLLUP_FIELDS, SLOTS, _existed_from, day_bounds
from incidents.uptime_replay import history_uptimes


def record_segment(component, start: datetime | None, end: datetime, status: str, incident=None) -> None:
    """Add a closed segment [start, end) of `status` to the component's rollups (the services call this
    inside their transaction when a change ends the previous status). start=None: since it existed."""
    slot = SLOTS.get(status)
    if slot is None:
        return
    tz = component.page.tz
    existed = _existed_from(component, tz)
    start_ts = existed if start is None else max(start.timestamp(), existed)  # nothing before it existed
    end_ts = end.timestamp()
    if end_ts <= start_ts:
        return
    day = datetime.fromtimestamp(start_ts, tz).date()
    field = ROLLUP_FIELDS[slot]
    while start_ts < end_ts:
        _, day_end = day_bounds(day, tz)
        stop = min(end_ts, day_end.timestamp())
        row, _ = ComponentDay.objects.select_for_update().get_or_create(component=component, day=day)
        setattr(row, field, getattr(row, field) + (stop - start_ts))
        if incident is not None and incident.code not in row.incident_codes:
            row.incident_codes = [*row.incident_codes, incident.code]
        row.save()
        start_ts = stop
        day += timedelta(days=1)


def rebuild_component_days(components, since_days: int = 400) -> None:
    """Recompute the rollups of these components from their raw history (after history was rewritten,
    a page's time zone changed, or changes were imported in bulk), and point each at its latest change."""
    for component in components:
        tz = component.page.tz
        latest = ComponentStatusChange.objects.filter(component=component).order_by("-changed_at", "-id").first()
        ComponentDay.objects.filter(component=component).delete()
        type(component).objects.filter(pk=component.pk).update(status_change=latest)
        component.status_change = latest
        if latest is None:
            continue
        # Replay up to the latest change only: what follows it is the open segment, added when read.
        (replayed,) = history_uptimes([component], tz, latest.changed_at, days=since_days)
        rows = [
            ComponentDay(
                component=component,
                day=day.date,
                major=day.major,
                partial=day.partial,
                degraded=day.degraded,
                maintenance=day.maintenance,
                incident_codes=list(day.incidents),
            )  # fmt: skip
            for day in replayed.days
            if day.has_data and (day.major or day.partial or day.degraded or day.maintenance)
        ]
        ComponentDay.objects.bulk_create(rows)
