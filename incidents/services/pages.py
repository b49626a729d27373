"""Writes of pages and components: creating them, a component's status (with its history), the page version.

The edits of a page's settings, of groups and components after creation live in incidents/page_services.py.
Each function runs in one transaction, validates before it writes, and bumps the page's version in it.
"""

from datetime import date, datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Max
from django.utils import timezone

from incidents import events, validation
from incidents.choices import ComponentStatus
from incidents.models import (
    Component,
    ComponentGroup,
    ComponentStatusChange,
    Incident,
    IncidentUpdate,
    Page,
    validate_time_zone,
)
from incidents.public_cache.state import page_state_changed
from incidents.publishing import publish_soon
from incidents.uptime_rollups import record_segment


def page_changed(page_id: int) -> None:
    """Bump the page's version (cache invalidation) inside the writing transaction.

    The new version becomes visible exactly when the change commits: a reader sees either the old state
    with the old version or the new state with the new one, never new content cached under an old key.
    The version cached for cheap hits is cleared now and set again on commit (incidents/public_cache/).
    """
    Page.objects.filter(pk=page_id).update(version=F("version") + 1, updated_at=timezone.now())
    page_state_changed(page_id)
    transaction.on_commit(lambda: publish_soon(page_id), robust=True)  # the static copy, if PUBLISH_TARGET is set


# -- locks: always in this order (components by primary key, then the page), so two writers never deadlock --


def lock_components(components) -> list[Component]:
    """Lock the components' rows in primary-key order (whatever order the caller, or a client's JSON, gave)."""
    ids = sorted({c.pk for c in components})
    if not ids:
        return []
    return list(Component.objects.select_for_update(of=("self",)).filter(pk__in=ids).order_by("pk"))


@transaction.atomic
def page_create(*, name: str, time_zone: str = "UTC", url: str = "", code: str | None = None) -> Page:
    """Create a page; the first page becomes the default one, served at /."""
    name = validation.require_text(name, "name", 100)
    try:
        validate_time_zone(time_zone)
    except ValidationError as exc:
        raise ValidationError({"time_zone": exc.messages}) from None
    page = Page(name=name, time_zone=time_zone, url=url, is_default=not Page.objects.filter(is_default=True).exists())
    if code:
        page.code = code
    page.full_clean()
    page.save()
    if page.is_default:
        page_state_changed(page.pk)  # a new default page: what / serves changes
    return page


def next_position(page: Page) -> int:
    """Top-level groups and ungrouped components share one order on the page."""
    top = [
        ComponentGroup.objects.filter(page=page).aggregate(m=Max("position"))["m"],
        Component.objects.filter(page=page).aggregate(m=Max("position"))["m"],
    ]
    return max((p for p in top if p is not None), default=-1) + 1


@transaction.atomic
def component_group_create(
    *, page: Page, name: str, description: str = "", position: int | None = None
) -> ComponentGroup:
    group = ComponentGroup(
        page=page,
        name=validation.require_text(name, "name", 100),
        description=validation.optional_text(description, "description"),
        position=next_position(page) if position is None else position,
    )
    group.save()
    page_changed(page.pk)
    return group


@transaction.atomic
def component_create(
    *,
    page: Page,
    name: str,
    group: ComponentGroup | None = None,
    description: str = "",
    status: str = ComponentStatus.OPERATIONAL,
    position: int | None = None,
    showcase: bool = True,
    only_show_if_degraded: bool = False,
    start_date: date | None = None,
) -> Component:
    if group is not None and group.page_id != page.pk:
        raise ValidationError({"group": f"The group {group} does not belong to the page {page}."})
    validation.require_choice(status, ComponentStatus, "status")
    if position is None:
        if group is not None:
            last = group.components.aggregate(m=Max("position"))["m"]
            position = 0 if last is None else last + 1  # (not `last or -1`: a last position of 0 is a position)
        else:
            position = next_position(page)
    component = Component.objects.create(
        page=page,
        group=group,
        name=validation.require_text(name, "name", 100),
        description=validation.optional_text(description, "description"),
        status=status,
        position=position,
        showcase=showcase,
        only_show_if_degraded=only_show_if_degraded,
        start_date=start_date,
    )
    page_changed(page.pk)
    return component


def apply_component_status(
    component: Component,
    status: str,
    *,
    at: datetime,
    author=None,
    incident: Incident | None = None,
    update: IncidentUpdate | None = None,
) -> ComponentStatusChange | None:
    """Set one component's status and record the change; nothing when the status is unchanged.

    The caller holds the component's lock (lock_components), taken in primary-key order with the others.
    """
    # Lock the component row only (a no-op when the caller locked it already); the joined rows are read, not
    # locked (PostgreSQL refuses FOR UPDATE on the nullable side of an outer join).
    loaded = Component.objects.select_related("page", "status_change__incident")
    current = loaded.select_for_update(of=("self",)).get(pk=component.pk)
    if current.status == status:
        component.status = status
        return None
    # A component's history must stay in time order (uptime replays it): a back-dated change cannot land
    # before the component's latest recorded change.
    latest = current.status_changes.aggregate(m=Max("changed_at"))["m"]
    if latest is not None and at < latest:
        at = latest
    change = ComponentStatusChange.objects.create(
        component=current,
        old_status=current.status,
        new_status=status,
        changed_at=at,
        incident=incident,
        update=update,
        author=author,
    )
    # The change ends the previous status's segment: add it to the uptime rollups.
    previous = current.status_change
    if previous is not None:
        record_segment(current, previous.changed_at, at, current.status, previous.incident)
    else:
        record_segment(current, None, at, current.status)
    Component.objects.filter(pk=component.pk).update(status=status, status_change=change, updated_at=timezone.now())
    component.status = status
    component.status_change = change
    events.component_status_changed.send(change)
    return change


@transaction.atomic
def component_set_status(*, component: Component, status: str, author=None, at: datetime | None = None):
    """Set a component's status outside any incident (a quick change from the admin or the API)."""
    validation.require_choice(status, ComponentStatus, "status")
    at = validation.require_aware(at, "time") or timezone.now()
    change = apply_component_status(component, status, at=at, author=author)
    page_changed(component.page_id)
    return change
