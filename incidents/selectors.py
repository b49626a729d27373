"""The reads of `incidents`, each written once: page order, timelines, affected components, current and recent
incidents, and what the API's serializers show. The public views, the feeds, the emails, the subscriber's pages,
the admin and the API call these.

Page order, decided here only: top-level rows (groups and ungrouped components) by position; on equal positions
a group comes before a component, then the older (smaller id) first; a group's components by position, then id.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Case, IntegerField, Prefetch, Q, QuerySet, Value, When
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_noop

from incidents.choices import STATUS_LABELS, UNRESOLVED_STATUSES, IncidentStatus, MaintenanceStatus
from incidents.models import (
    Component,
    ComponentGroup,
    ComponentStatusChange,
    Incident,
    IncidentTemplate,
    IncidentUpdate,
    Page,
)
from incidents.status import page_status, worst_component_status

UPDATE_LABEL = gettext_noop("Update")  # an update whose status did not change (DESIGN.md)

EVERY = Q()  # no narrowing: every incident of the page (a viewer's audience group narrows it)

# -- page order -------------------------------------------------------------------------------------------------

GROUP, COMPONENT = 0, 1  # on a tie of positions, the group first


def top_level_key(item: Component | ComponentGroup) -> tuple[int, int, int]:
    """The sort key of a top-level row: a group, or a component outside any group."""
    return (item.position, GROUP if isinstance(item, ComponentGroup) else COMPONENT, item.id)


def child_key(component: Component) -> tuple[int, int]:
    """The sort key of a component inside its group."""
    return (component.position, component.id)


def page_order_key(item: Component | ComponentGroup) -> tuple:
    """Where a group or a component stands on the page; a group just before its own components.

    A grouped component needs its `group` loaded (select_related, or set by page_layout)."""
    if isinstance(item, Component) and item.group_id is not None:
        return (top_level_key(item.group), child_key(item))
    return (top_level_key(item), ())


def in_page_order(items: Iterable[Component | ComponentGroup]) -> list:
    """Groups and/or components (with their groups loaded) sorted in page order."""
    return sorted(items, key=page_order_key)


def components_in_page_order(components: QuerySet[Component]) -> QuerySet[Component]:
    """Components ordered by the database as page_order_key orders them (for a query that is paginated or
    prefetched): the top-level row's key (group's or own position, group first, id), then the place in the group."""
    kind = Case(When(group__isnull=True, then=Value(COMPONENT)), default=Value(GROUP), output_field=IntegerField())
    return components.order_by(
        Coalesce("group__position", "position"), kind, Coalesce("group_id", "id"), "position", "id"
    )


@dataclass
class LayoutRow:
    """A top-level row of the page: a group with its components, or a component on its own."""

    group: ComponentGroup | None = None
    component: Component | None = None
    children: list[Component] = field(default_factory=list)


def page_layout(page: Page) -> tuple[list[LayoutRow], list[Component]]:
    """Every row of the page in page order, and every component in page order (two queries).

    Each component has its `group` set (no further query). Its current status change is not loaded: the uptime
    loads the few it needs (incidents.uptime.component_uptimes), and joining it cost more than the rest here."""
    groups = {g.id: g for g in ComponentGroup.objects.filter(page=page)}
    components = list(Component.objects.filter(page=page))
    rows = {g.id: LayoutRow(group=g) for g in groups.values()}
    top: list[tuple[tuple, LayoutRow]] = [(top_level_key(g), rows[g.id]) for g in groups.values()]
    for component in components:
        if component.group_id is None:
            top.append((top_level_key(component), LayoutRow(component=component)))
        else:
            component.group = groups[component.group_id]
            rows[component.group_id].children.append(component)
    for row in rows.values():
        row.children.sort(key=child_key)
    top.sort(key=lambda pair: pair[0])
    ordered = [row for _, row in top]
    flat = [c for row in ordered for c in ([row.component] if row.component else row.children)]
    return ordered, flat


def public_layout(page: Page) -> tuple[list[LayoutRow], list[Component]]:
    """The rows a visitor sees: hidden components left out, a group without a visible one too; each group's
    `status` is its worst component's (hidden ones included). Also every component, in page order."""
    rows, components = page_layout(page)
    shown = []
    for row in rows:
        if row.component is not None:
            if row.component.is_visible:
                shown.append(row)
            continue
        visible = [c for c in row.children if c.is_visible]
        if visible:
            row.group.status = worst_component_status(c.status for c in row.children)
            shown.append(LayoutRow(group=row.group, children=visible))
    return shown, components


def page_components(page: Page) -> list[Component]:
    """The page's components in page order, each with its group."""
    return page_layout(page)[1]


def affected_components(incident: Incident) -> list[Component]:
    """The components an incident affected, in page order, each with its group (one query)."""
    return in_page_order(incident.components.select_related("group"))


# -- timelines -------------------------------------------------------------------------------------------------


def label_updates(updates_oldest_first: Sequence) -> None:
    """Set `.label` on each update: "Update" when its status equals the previous one's, else the status.
    A postmortem is always called one (an incident has one postmortem document, never an "Update" of it)."""
    previous = None
    for update in updates_oldest_first:
        if previous is not None and update.status == previous and update.status != IncidentStatus.POSTMORTEM:
            update.label = UPDATE_LABEL
        else:
            update.label = STATUS_LABELS[update.status]
        previous = update.status


def incident_timeline(incident: Incident, *, fields: Sequence[str] | None = None) -> list[IncidentUpdate]:
    """The incident's updates, labelled, newest first (`fields` limits the columns loaded)."""
    updates = incident.updates.order_by("display_at", "id")
    if fields:
        updates = updates.only(*fields)
    timeline = list(updates)
    label_updates(timeline)
    timeline.reverse()
    return timeline


def with_timelines(incidents: QuerySet[Incident], *, update_fields: Sequence[str] | None = None) -> list[Incident]:
    """The incidents, each with `.timeline`: its updates labelled, newest first (one extra query for all).
    `update_fields` loads only those fields of the updates (a list that shows a few of them)."""
    updates = IncidentUpdate.objects.order_by("display_at", "id")
    if update_fields:
        updates = updates.only("incident_id", *update_fields)
    incidents = incidents.prefetch_related(Prefetch("updates", queryset=updates, to_attr="timeline"))
    incidents = list(incidents)
    for incident in incidents:
        label_updates(incident.timeline)
        incident.timeline.reverse()
    return incidents


# -- which incidents -------------------------------------------------------------------------------------------

# What the home page shows above the components: open incidents, and maintenances not yet completed.
CURRENT_STATUSES = (
    *UNRESOLVED_STATUSES,
    MaintenanceStatus.SCHEDULED,
    MaintenanceStatus.IN_PROGRESS,
    MaintenanceStatus.VERIFYING,
)


def current_incidents(page: Page, seen: Q = EVERY) -> list[Incident]:
    """Open incidents and maintenances not yet completed, latest update first, with their timelines.
    `seen` (incidents.access.incident_filter) narrows them to what a viewer may see."""
    return with_timelines(
        Incident.objects.filter(seen, page=page, status__in=CURRENT_STATUSES).order_by("-last_update_at", "-id")
    )


RECENT_FIELDS = ("page_id", "code", "name", "status", "impact", "started_at", "scheduled_for")


def recent_incidents(page: Page, now: datetime, days: int, seen: Q = EVERY) -> list[Incident]:
    """Incidents started in about the last `days` days (a day more, for the page's zone), newest first, with
    what the status page lists of them: a busy page has hundreds, and loading every field of each (its
    postmortem draft, a dozen timestamps) cost more than the rest of the list.

    Each has `.update_rows`: its updates as (id, status, display_at, body), oldest first, read as plain rows
    (two queries in all); timeline_of makes them a timeline. They are also what its listing depends on."""
    since = now - timedelta(days=days + 1)
    incidents = Incident.objects.filter(seen, page=page, started_at__gte=since).order_by("-started_at", "-id")
    incidents = list(incidents.only(*RECENT_FIELDS))
    rows: dict[int, list] = {incident.pk: [] for incident in incidents}
    updates = IncidentUpdate.objects.filter(incident_id__in=list(rows)).order_by("display_at", "id")
    for incident_id, *row in updates.values_list("incident_id", "id", "status", "display_at", "body"):
        rows[incident_id].append(tuple(row))
    for incident in incidents:
        incident.update_rows = tuple(rows[incident.pk])
    return incidents


def timeline_of(incident: Incident) -> list[IncidentUpdate]:
    """An incident's timeline from its `.update_rows` (recent_incidents): labelled, newest first."""
    timeline = [
        IncidentUpdate(id=id_, incident_id=incident.pk, status=status, display_at=display_at, body=body)
        for id_, status, display_at, body in incident.update_rows
    ]
    label_updates(timeline)
    timeline.reverse()
    return timeline


def history_incidents(page: Page, now: datetime) -> QuerySet[Incident]:
    """Past and current incidents, newest first (a maintenance still to come is not history)."""
    return Incident.objects.filter(page=page, started_at__lte=now).order_by("-started_at", "-id")


def feed_incidents(page: Page, count: int, seen: Q = EVERY) -> list[Incident]:
    """The latest `count` incidents by start, with their timelines."""
    return with_timelines(Incident.objects.filter(seen, page=page).order_by("-started_at", "-id")[:count])


def split_maintenances(incidents, now) -> tuple[list, list]:
    """The maintenances under way (in progress or verifying), and those still to come, by start.

    A maintenance still "scheduled" after its window ended (nobody started it) is not to come: it is left out.
    """
    maintenances = sorted((i for i in incidents if i.is_maintenance), key=lambda i: (i.scheduled_for, i.id))
    in_progress = [m for m in maintenances if m.is_active_maintenance]
    upcoming = [m for m in maintenances if m.is_upcoming and (m.scheduled_until is None or m.scheduled_until > now)]
    return in_progress, upcoming


# -- what the API shows ----------------------------------------------------------------------------------------
# Each loads what api/serializers.py shows in a constant number of queries.


class GroupAsComponent:
    """A component group as Statuspage shows it: a component with `"group": true` that lists its children."""

    is_group = True
    group = None
    showcase = False
    start_date = None
    only_show_if_degraded = False

    def __init__(self, group: ComponentGroup, children: list[Component]):
        self.code, self.name, self.position = group.code, group.name, group.position
        self.created_at, self.updated_at, self.description = group.created_at, group.updated_at, group.description
        self.status = worst_component_status(c.status for c in children)
        self.children = [c.code for c in children]


def load_components(page: Page) -> tuple[list, list[Component]]:
    """Every component of the page, hidden ones included, in page order, each group (as a GroupAsComponent)
    just before its components; and every component. Two queries (page_layout's)."""
    rows, components = page_layout(page)
    return listed_components(rows), components


def listed_components(rows: list[LayoutRow]) -> list:
    """The rows as the API lists them: each group (as a GroupAsComponent) just before its components."""
    listed: list = []
    for row in rows:
        if row.group is not None:
            listed.append(GroupAsComponent(row.group, row.children))
            listed += row.children
        else:
            listed.append(row.component)
    return listed


def load_group(group: ComponentGroup) -> GroupAsComponent:
    return GroupAsComponent(group, list(group.components.order_by("position", "id")))


def _changes() -> QuerySet[ComponentStatusChange]:
    return ComponentStatusChange.objects.select_related("component").order_by("id")


def with_details(incidents: QuerySet[Incident]) -> QuerySet[Incident]:
    """Prefetch what the API shows of an incident: `.timeline` (updates newest first, each with its `.changes`)
    and `.component_list` (in page order). A fixed number of queries for any number of incidents."""
    updates = IncidentUpdate.objects.order_by("-display_at", "-id").prefetch_related(
        Prefetch("component_changes", queryset=_changes(), to_attr="changes")
    )
    components = components_in_page_order(Component.objects.select_related("group"))
    return incidents.prefetch_related(
        Prefetch("updates", queryset=updates, to_attr="timeline"),
        Prefetch("components", queryset=components, to_attr="component_list"),
    )


def load_incident(incident: Incident) -> Incident:
    return with_details(Incident.objects.filter(pk=incident.pk)).get()


def load_update(update: IncidentUpdate) -> IncidentUpdate:
    """An update with its incident and its component changes (`.changes`)."""
    return (
        IncidentUpdate.objects.select_related("incident")
        .prefetch_related(Prefetch("component_changes", queryset=_changes(), to_attr="changes"))
        .get(pk=update.pk)
    )


def load_templates(templates: QuerySet[IncidentTemplate]) -> list[IncidentTemplate]:
    """Templates with their component links, `.links` and `.linked_components`, in page order."""
    templates = list(templates.prefetch_related("component_links__component__group"))
    for template in templates:
        template.links = sorted(template.component_links.all(), key=lambda link: page_order_key(link.component))
        template.linked_components = [link.component for link in template.links]
    return templates


def _fields(model) -> list[str]:
    return [f.attname for f in model._meta.concrete_fields]


def details_with(incidents: QuerySet[Incident], components: Iterable[Component]) -> list[Incident]:
    """The incidents with what with_details prefetches, in two queries, taking the components from those the
    caller read already (page_layout's, each with its group) instead of reading them again: the incidents with
    their component links (a row per link), then their updates with their component changes (a row per change).
    """
    by_id = {c.pk: c for c in components}
    names = _fields(Incident)
    pk_at = names.index(Incident._meta.pk.attname)
    loaded: dict[int, Incident] = {}
    for *values, component_id in incidents.values_list(*names, "components__id"):
        incident = loaded.get(values[pk_at])
        if incident is None:
            incident = loaded[values[pk_at]] = Incident.from_db(incidents.db, names, values)
            incident.timeline, incident.component_list = [], []
        if component_id in by_id:  # None: no component; another page's cannot be linked (services check)
            incident.component_list.append(by_id[component_id])
    for incident in loaded.values():
        incident.component_list.sort(key=page_order_key)
    if not loaded:
        return []
    names = _fields(IncidentUpdate)
    pk_at = names.index(IncidentUpdate._meta.pk.attname)
    updates = IncidentUpdate.objects.filter(incident_id__in=list(loaded)).order_by(
        "-display_at", "-id", "component_changes__id"
    )
    changes = ("component_changes__id", "component_changes__component_id", "component_changes__old_status",
               "component_changes__new_status")  # fmt: skip
    update = None
    for *values, change_id, component_id, old_status, new_status in updates.values_list(*names, *changes):
        if update is None or update.pk != values[pk_at]:
            update = IncidentUpdate.from_db(updates.db, names, values)
            update.incident = loaded[update.incident_id]
            update.incident.timeline.append(update)
            update.changes = []
        if change_id is not None and component_id in by_id:
            update.changes.append(ComponentStatusChange(
                id=change_id, update_id=update.pk, component=by_id[component_id], old_status=old_status,
                new_status=new_status,
            ))  # fmt: skip
    return list(loaded.values())


def open_incidents_and_maintenances(
    page: Page, maintenance_statuses, seen: Q = EVERY, components: Iterable[Component] = ()
) -> tuple[list[Incident], list[Incident]]:
    """The unresolved incidents (latest activity first) and the maintenances in `maintenance_statuses` (latest
    window first), with details, loaded together (summary.json shows both). `components`: every component of
    the page, read already (page_layout's), which the details then take instead of reading them again."""
    wanted = Q(status__in=UNRESOLVED_STATUSES) | Q(scheduled_for__isnull=False, status__in=maintenance_statuses)
    incidents = Incident.objects.filter(wanted, seen, page=page)
    loaded = details_with(incidents, components) if components else list(with_details(incidents))
    unresolved = [i for i in loaded if i.status in UNRESOLVED_STATUSES]
    unresolved.sort(key=lambda i: (i.last_update_at, i.id), reverse=True)
    maintenances = [i for i in loaded if i.scheduled_for is not None and i.status in maintenance_statuses]
    maintenances.sort(key=lambda i: (i.scheduled_for, i.id), reverse=True)
    return unresolved, maintenances


def status_of(page: Page, components: list[Component], unresolved: list[Incident] | None = None, seen: Q = EVERY):
    """The page's status indicator; `unresolved` spares the query when the unresolved incidents are loaded."""
    if unresolved is None:
        unresolved = Incident.objects.filter(seen, page=page, status__in=UNRESOLVED_STATUSES).only("impact")
    return page_status([c.status for c in components], [i.impact for i in unresolved])
