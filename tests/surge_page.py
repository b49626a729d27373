"""A page as it is read during a surge: 100 showcased components in 10 groups, about five incidents per
component over 90 days, one open incident. The history is written in bulk (fast), then the uptime rollups
are rebuilt from it as an import does; the open incident goes through the services."""

import random
import re
from datetime import timedelta

from django.utils import timezone

from incidents import services
from incidents.choices import ComponentStatus, Impact, IncidentStatus
from incidents.models import Component, ComponentStatusChange, Incident, IncidentUpdate
from incidents.uptime_rollups import rebuild_component_days

OUTAGES = {
    ComponentStatus.DEGRADED_PERFORMANCE: Impact.MINOR,
    ComponentStatus.PARTIAL_OUTAGE: Impact.MAJOR,
    ComponentStatus.MAJOR_OUTAGE: Impact.CRITICAL,
}


def build_surge_page(components: int = 100, groups: int = 10, per_component: int = 5, days: int = 90):
    rng = random.Random(11)
    now = timezone.now()
    page = services.page_create(name="Surge Cloud", time_zone="Europe/Paris")
    start = (now - timedelta(days=days + 30)).date()
    made = []
    for g in range(groups):
        group = services.component_group_create(page=page, name=f"Region {g + 1}")
        for c in range(components // groups):
            made.append(
                services.component_create(
                    page=page, group=group, name=f"Service {g + 1}.{c + 1}", start_date=start,
                    description=f"Service {c + 1} in region {g + 1}",
                )
            )  # fmt: skip
    plan = sorted((now - timedelta(days=rng.uniform(1, days - 1)), c) for c in made for _ in range(per_component))
    incidents, updates, changes = [], [], []
    for at, component in plan:
        outage = rng.choice(list(OUTAGES))
        end = at + timedelta(minutes=rng.randint(25, 240))
        incident = Incident(
            page=page, name=f"{component.name} is unavailable for some customers", status=IncidentStatus.RESOLVED,
            impact=OUTAGES[outage], started_at=at, resolved_at=end, last_update_at=end,
        )  # fmt: skip
        incidents.append((incident, component))
        for status, when, body in (
            (IncidentStatus.INVESTIGATING, at, "We are investigating **errors** for some customers.\n\n- requests time out"),
            (IncidentStatus.IDENTIFIED, at + timedelta(minutes=12), "The cause is a faulty deploy; we are rolling it back."),
            (IncidentStatus.RESOLVED, end, "This incident has been resolved."),
        ):  # fmt: skip
            updates.append(IncidentUpdate(incident=incident, status=status, body=body, display_at=when))
        changes.append(ComponentStatusChange(component=component, incident=incident, old_status="operational",
                                             new_status=outage, changed_at=at))  # fmt: skip
        changes.append(ComponentStatusChange(component=component, incident=incident, old_status=outage,
                                             new_status="operational", changed_at=end))  # fmt: skip
    Incident.objects.bulk_create([incident for incident, _ in incidents])
    Incident.components.through.objects.bulk_create(
        [Incident.components.through(incident_id=i.pk, component_id=c.pk) for i, c in incidents]
    )
    for update in updates:
        update.incident_id = update.incident.pk
    IncidentUpdate.objects.bulk_create(updates)
    for change in changes:
        change.incident_id = change.incident.pk
    ComponentStatusChange.objects.bulk_create(changes)
    rebuild_component_days(list(Component.objects.filter(page=page).select_related("page")))
    open_incident = services.incident_create(
        page=page, name="Elevated error rates in Region 1", body="We are investigating elevated error rates.",
        components={made[0]: ComponentStatus.MAJOR_OUTAGE, made[1]: ComponentStatus.PARTIAL_OUTAGE},
        display_at=now - timedelta(minutes=25), deliver_notifications=False,
    )  # fmt: skip
    return page, open_incident


def bar_levels(svg) -> list[str]:
    """The level drawn for each day of a compact bar: paths in drawing order, later ones on top."""
    days = int(svg["viewbox"].split()[2])
    levels = [None] * days
    for path in svg.select("path"):
        for first, count in re.findall(r"M(\d+) 0h(\d+)v1h-\d+z", path["d"]):
            levels[int(first) : int(first) + int(count)] = [path["class"][0]] * int(count)
    return levels
