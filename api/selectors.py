"""The API's reads: each loads what api/serializers.py shows in a constant number of queries.

These belong in incidents/selectors.py once it exists (the lead moves them): the API lists every component,
hidden ones included, so incidents.views.component_rows (visible components only) does not fit as it is.
"""

from django.db.models import Prefetch, Q

from incidents.choices import UNRESOLVED_STATUSES
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
    """Every component of the page in page order, each group (as a GroupAsComponent) followed by its children,
    and the plain components; in two queries."""
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
    rows = []
    for _, item in top:
        if isinstance(item, ComponentGroup):
            rows.append(GroupAsComponent(item, by_group[item.id]))
            rows += by_group[item.id]
        else:
            rows.append(item)
    return rows, components


def load_group(group: ComponentGroup) -> GroupAsComponent:
    return GroupAsComponent(group, list(group.components.all()))


def with_details(incidents):
    """Prefetch what the Incident serializer shows: a fixed number of queries for any number of incidents."""
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


def load_update(update: IncidentUpdate) -> IncidentUpdate:
    """An update with its incident and its component changes, as the IncidentUpdate serializer shows it."""
    changes = ComponentStatusChange.objects.select_related("component").order_by("id")
    return (
        IncidentUpdate.objects.select_related("incident")
        .prefetch_related(Prefetch("component_changes", queryset=changes, to_attr="changes"))
        .get(pk=update.pk)
    )


def load_templates(templates) -> list[IncidentTemplate]:
    """Templates with their component links (components in page order) as the serializer shows them."""
    templates = list(templates.prefetch_related("component_links__component__group"))
    for template in templates:
        links = template.component_links.all()
        template.links = sorted(links, key=lambda link: (link.component.position, link.component.id))
        template.linked_components = [link.component for link in template.links]
    return templates


def current_incidents(page: Page, maintenance_statuses) -> tuple[list[Incident], list[Incident]]:
    """The unresolved incidents (latest activity first) and the maintenances in `maintenance_statuses` (latest
    window first), with details, loaded together (summary.json shows both)."""
    wanted = Q(status__in=UNRESOLVED_STATUSES) | Q(scheduled_for__isnull=False, status__in=maintenance_statuses)
    loaded = list(with_details(Incident.objects.filter(wanted, page=page)))
    unresolved = [i for i in loaded if i.status in UNRESOLVED_STATUSES]
    unresolved.sort(key=lambda i: (i.last_update_at, i.id), reverse=True)
    maintenances = [i for i in loaded if i.scheduled_for is not None and i.status in maintenance_statuses]
    maintenances.sort(key=lambda i: (i.scheduled_for, i.id), reverse=True)
    return unresolved, maintenances


def status_of(page: Page, components: list[Component], unresolved: list[Incident] | None = None):
    """The page's status indicator; `unresolved` spares the query when the unresolved incidents are loaded."""
    if unresolved is None:
        unresolved = Incident.objects.filter(page=page, status__in=UNRESOLVED_STATUSES).only("impact")
    return page_status([c.status for c in components], [i.impact for i in unresolved])
