"""The objects of Statuspage's public API v2, built as plain dicts with the documented keys in order.

Loaders fetch what the builders need in a constant number of queries, whatever the page holds.
"""

from datetime import UTC, date, datetime

from django.conf import settings
from django.db.models import Prefetch

from incidents.choices import UNRESOLVED_STATUSES
from incidents.models import Component, ComponentGroup, ComponentStatusChange, Incident, IncidentUpdate, Page
from incidents.presentation import local
from incidents.status import page_status, worst_component_status

UTC_NAMES = {"UTC", "Etc/UTC", "Etc/Universal", "Universal", "Zulu", "Etc/Zulu", "GMT", "Etc/GMT"}


def timestamp(dt: datetime | None, page: Page) -> str | None:
    """2021-12-07T11:07:15.773-07:00 in the page's zone; a UTC page shows Z."""
    if dt is None:
        return None
    at = local(dt, page.tz)  # in UTC when the zone cannot show it
    text = at.isoformat(timespec="milliseconds")
    if (page.time_zone in UTC_NAMES or at.tzinfo is UTC) and text.endswith("+00:00"):
        text = text[:-6] + "Z"
    return text


def day(value: date | None) -> str | None:
    return value.isoformat() if value else None


def absolute(path: str) -> str:
    return settings.SITE_URL + path


def page_object(page: Page) -> dict:
    return {
        "id": page.code,
        "name": page.name,
        "url": absolute(page.get_absolute_url()),
        "time_zone": page.time_zone,
        "updated_at": timestamp(page.updated_at, page),
    }


def status_object(status) -> dict:
    return {"indicator": str(status.indicator), "description": status.description}


def component_object(component: Component, page: Page) -> dict:
    """A component; its `group` must be loaded (select_related) when it has one."""
    return {
        "id": component.code,
        "name": component.name,
        "status": component.status,
        "created_at": timestamp(component.created_at, page),
        "updated_at": timestamp(component.updated_at, page),
        "position": component.position,
        "description": component.description or None,
        "showcase": component.showcase,
        "start_date": day(component.start_date),
        "group_id": component.group.code if component.group_id else None,
        "page_id": page.code,
        "group": False,
        "only_show_if_degraded": component.only_show_if_degraded,
    }


def group_object(group: ComponentGroup, children: list[Component], page: Page) -> dict:
    """A component group, shown as Statuspage shows it: a component with `"group": true` and its children."""
    return {
        "id": group.code,
        "name": group.name,
        "status": worst_component_status(c.status for c in children),
        "created_at": timestamp(group.created_at, page),
        "updated_at": timestamp(group.updated_at, page),
        "position": group.position,
        "description": group.description or None,
        "showcase": False,
        "start_date": None,
        "group_id": None,
        "page_id": page.code,
        "group": True,
        "only_show_if_degraded": False,
        "components": [c.code for c in children],
    }


def load_components(page: Page) -> tuple[list[dict], list[Component]]:
    """Every component object of the page in page order (each group followed by its children), in two queries."""
    groups = list(ComponentGroup.objects.filter(page=page))
    components = list(Component.objects.filter(page=page))
    by_group: dict[int, list[Component]] = {g.id: [] for g in groups}
    by_id = {g.id: g for g in groups}
    top = []
    for component in components:
        if component.group_id is not None:
            component.group = by_id[component.group_id]
            by_group[component.group_id].append(component)
        else:
            top.append(((component.position, 1, component.id), component))
    top += [((g.position, 0, g.id), g) for g in groups]
    top.sort(key=lambda row: row[0])
    objects = []
    for _, item in top:
        if isinstance(item, ComponentGroup):
            objects.append(group_object(item, by_group[item.id], page))
            objects += [component_object(c, page) for c in by_group[item.id]]
        else:
            objects.append(component_object(item, page))
    return objects, components


def load_group(page: Page, group: ComponentGroup) -> dict:
    return group_object(group, list(group.components.all()), page)


def update_object(update: IncidentUpdate, incident: Incident, page: Page) -> dict:
    """An update; `update.changes` holds its component status changes (with components)."""
    changes = getattr(update, "changes", None)
    if changes is None:
        changes = list(update.component_changes.select_related("component"))
    affected = [
        {"code": c.component.code, "name": c.component.name, "old_status": c.old_status, "new_status": c.new_status}
        for c in changes
    ]
    return {
        "id": update.code,
        "status": update.status,
        "body": update.body,
        "incident_id": incident.code,
        "created_at": timestamp(update.created_at, page),
        "updated_at": timestamp(update.updated_at, page),
        "display_at": timestamp(update.display_at, page),
        "affected_components": affected or None,
        "deliver_notifications": update.deliver_notifications,
        "custom_tweet": None,
        "tweet_id": None,
    }


def incident_object(incident: Incident, page: Page) -> dict:
    """An incident from `with_details`: updates newest first, components as full objects."""
    return {
        "id": incident.code,
        "name": incident.name,
        "status": incident.status,
        "created_at": timestamp(incident.created_at, page),
        "updated_at": timestamp(incident.updated_at, page),
        "monitoring_at": timestamp(incident.monitoring_at, page),
        "resolved_at": timestamp(incident.resolved_at, page),
        "impact": incident.impact,
        "shortlink": absolute(page.public_url("incident", code=incident.code)),
        "started_at": timestamp(incident.started_at, page),
        "page_id": page.code,
        "incident_updates": [update_object(u, incident, page) for u in incident.timeline],
        "components": [component_object(c, page) for c in incident.component_list],
        "reminder_intervals": None,
        # Ours: the promised time of the next update while the incident is open (Statuspage has no such field).
        "next_update_at": timestamp(incident.next_update_at, page) if incident.is_open else None,
    }


def maintenance_object(maintenance: Incident, page: Page) -> dict:
    """A scheduled maintenance: the incident's fields, then its window."""
    return {
        **incident_object(maintenance, page),
        "scheduled_for": timestamp(maintenance.scheduled_for, page),
        "scheduled_until": timestamp(maintenance.scheduled_until, page),
    }


def any_object(incident: Incident, page: Page) -> dict:
    return maintenance_object(incident, page) if incident.is_maintenance else incident_object(incident, page)


def with_details(incidents):
    """Prefetch what incident_object needs: a fixed number of queries for any number of incidents."""
    changes = ComponentStatusChange.objects.select_related("component").order_by("id")
    updates = IncidentUpdate.objects.order_by("-display_at", "-id").prefetch_related(
        Prefetch("component_changes", queryset=changes, to_attr="changes")
    )
    components = Component.objects.select_related("group").order_by("position", "id")
    return incidents.prefetch_related(
        Prefetch("updates", queryset=updates, to_attr="timeline"),
        Prefetch("components", queryset=components, to_attr="component_list"),
    )


def load_incident(incident: Incident) -> Incident:
    return with_details(Incident.objects.filter(pk=incident.pk)).get()


def status_of(page: Page, components: list[Component]):
    impacts = Incident.objects.filter(page=page, status__in=UNRESOLVED_STATUSES).values_list("impact", flat=True)
    return page_status([c.status for c in components], list(impacts))
