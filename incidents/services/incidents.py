"""Writes of incidents and their updates: declare, post an update, edit, delete (the postmortem: postmortems.py).

The admin, the APIs, management commands and tests all call these functions. Each runs in one
transaction, validates before it writes (bad input raises ValidationError and changes nothing), and
bumps the page's version in that transaction, so caches see the change exactly when it commits.
"""

from collections.abc import Mapping
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max, Min
from django.utils import timezone

from incidents import events
from incidents.choices import (
    CLOSED_STATUSES,
    UNRESOLVED_STATUSES,
    ComponentStatus,
    Impact,
    IncidentStatus,
    MaintenanceStatus,
)
from incidents.models import Component, ComponentStatusChange, Incident, IncidentUpdate, Page
from incidents.services import stages
from incidents.services.pages import apply_component_status, lock_components, page_changed
from incidents.status import impact_of
from incidents.uptime_rollups import rebuild_component_days
from incidents.validation import clean_component_changes, require_aware, require_choice, require_text

# -- incidents ------------------------------------------------------------------------------------------


def incident_refresh(incident: Incident) -> Incident:
    """Recompute the incident's stored, derived fields from its updates and component changes."""
    updates = list(incident.updates.order_by("display_at", "id").only("status", "display_at", "next_update_at"))
    first, last = updates[0], updates[-1]
    incident.status = last.status
    incident.next_update_at = last.next_update_at if last.status in UNRESOLVED_STATUSES else None
    incident.started_at = incident.start_override or first.display_at
    incident.last_update_at = last.display_at
    entered: dict[str, datetime] = {}
    previous = None
    for update in updates:
        if update.status != previous:
            entered[update.status] = update.display_at
        previous = update.status
    incident.monitoring_at = entered.get(IncidentStatus.MONITORING)
    if incident.status in CLOSED_STATUSES:
        closing = MaintenanceStatus.COMPLETED if incident.is_maintenance else IncidentStatus.RESOLVED
        incident.resolved_at = entered.get(closing, last.display_at)
    else:
        incident.resolved_at = None
    if incident.is_maintenance:
        incident.started_at = incident.scheduled_for
        incident.impact = Impact.MAINTENANCE
    else:
        caused = incident.status_changes.values_list("new_status", flat=True)
        incident.impact = incident.impact_override or impact_of(caused)
    incident.save(update_fields=DERIVED_FIELDS)
    return incident


# What incident_refresh writes: a concurrent edit of other fields (the postmortem draft) is never overwritten.
DERIVED_FIELDS = [
    "status", "impact", "started_at", "monitoring_at", "resolved_at", "last_update_at", "next_update_at", "updated_at",
]  # fmt: skip


@transaction.atomic
def incident_create(
    *,
    page: Page,
    name: str,
    body: str,
    status: str = IncidentStatus.INVESTIGATING,
    components: Mapping[Component, str] | None = None,
    affected: list[Component] | None = None,
    impact_override: str | None = None,
    author=None,
    display_at: datetime | None = None,
    started_at: datetime | None = None,
    deliver_notifications: bool = True,
    next_update_in: timedelta | None = None,
) -> Incident:
    """Declare an incident with its first update and the new statuses of the affected components.

    `components` maps components to their new status; `affected` lists components that the incident
    concerns without changing their status.
    """
    name = require_text(name, "name", 200)
    body = require_text(body, "body")
    require_choice(status, IncidentStatus, "status")
    if status == IncidentStatus.POSTMORTEM:
        raise ValidationError({"status": "An incident starts in another stage; a postmortem follows its resolution."})
    if impact_override not in (None, ""):
        require_choice(impact_override, Impact, "impact_override")
    changes = clean_component_changes(page, components)
    affected = list(affected or [])
    clean_component_changes(page, dict.fromkeys(affected, ComponentStatus.OPERATIONAL))
    now = timezone.now()
    display_at = require_aware(display_at, "display_at") or now
    started_at = require_aware(started_at, "started_at")
    if started_at and started_at > display_at:
        raise ValidationError({"started_at": "The incident cannot start after its first update."})

    incident = Incident.objects.create(
        page=page,
        name=name,
        status=status,
        impact_override=impact_override or "",
        start_override=started_at,
        started_at=started_at or display_at,
        last_update_at=display_at,
    )
    post_update_rows(
        incident,
        status=status,
        body=body,
        changes=changes,
        affected=affected,
        author=author,
        display_at=display_at,
        deliver_notifications=deliver_notifications,
        next_update_at=_promise(display_at, next_update_in),
    )
    return incident


@transaction.atomic
def incident_post_update(
    *,
    incident: Incident,
    body: str,
    status: str | None = None,
    components: Mapping[Component, str] | None = None,
    affected: list[Component] | None = None,
    author=None,
    display_at: datetime | None = None,
    deliver_notifications: bool = True,
    next_update_in: timedelta | None = None,
    refuse_duplicate: bool = False,
    operational_on_resolve: bool = False,
) -> IncidentUpdate:
    """Post an update: a stage change and/or a message, and component statuses, in one step.

    The stage's own component changes apply (incidents/services/stages.py): a maintenance in progress puts
    its components under maintenance, completed restores them; with `operational_on_resolve`, resolving sets
    the affected components back to operational (the admin asks for it; the Statuspage API does not). A
    status given in `components` wins over these.

    With `refuse_duplicate`, a message identical to the latest one within 10 minutes is refused (the
    admin asks the responder to confirm, then posts again without it).

    `next_update_in` makes a promise shown while the incident is open: "Next update expected by …".
    """
    # Lock order, everywhere: the incident, then components by primary key, then the page (page_changed).
    incident = Incident.objects.select_for_update(of=("self",)).select_related("page").get(pk=incident.pk)
    body = require_text(body, "body")
    status = status or incident.status
    require_choice(status, MaintenanceStatus if incident.is_maintenance else IncidentStatus, "status")
    if status == IncidentStatus.POSTMORTEM and incident.status not in (
        IncidentStatus.RESOLVED,
        IncidentStatus.POSTMORTEM,
    ):
        raise ValidationError({"status": "Resolve the incident before posting its postmortem."})
    if status == IncidentStatus.POSTMORTEM and published_postmortem(incident) is not None:
        # One postmortem per incident: a new text replaces it (incident_postmortem_publish), never a second one.
        raise ValidationError({"status": SECOND_POSTMORTEM})
    changes = clean_component_changes(incident.page, components)
    affected = list(affected or [])
    clean_component_changes(incident.page, dict.fromkeys(affected, ComponentStatus.OPERATIONAL))
    display_at = require_aware(display_at, "display_at") or timezone.now()
    if display_at < incident.last_update_at:
        raise ValidationError({"display_at": "A new update cannot be shown before the incident's latest update."})
    if refuse_duplicate and is_probable_duplicate(incident, body):
        # Checked with the incident locked, so two clicks at once cannot both get through.
        raise ValidationError({"body": ValidationError(DUPLICATE_MESSAGE, code="duplicate")})
    # The stage's presets are read from the locked rows (a status cannot change between reading and writing).
    own = list(incident.components.all()) if stages.may_preset(incident, status, operational_on_resolve) else []
    locked = {c.pk: c for c in lock_components([*changes, *own])}
    presets = stages.stage_presets(
        incident, status, [locked[c.pk] for c in own], operational_on_resolve=operational_on_resolve
    )
    changes = {**presets, **changes}
    return post_update_rows(
        incident,
        status=status,
        body=body,
        changes=changes,
        affected=affected,
        author=author,
        display_at=display_at,
        deliver_notifications=deliver_notifications,
        next_update_at=_promise(display_at, next_update_in),
    )


MAX_PROMISE = timedelta(days=7)
SECOND_POSTMORTEM = (
    "This incident has its postmortem already: edit it in the Postmortem section and publish the changes, "
    "or post this message as another stage."
)


def _promise(display_at: datetime, next_update_in: timedelta | None) -> datetime | None:
    """When the next update is promised for, from a duration; None for no promise."""
    if next_update_in is None:
        return None
    if not isinstance(next_update_in, timedelta) or not timedelta(minutes=1) <= next_update_in <= MAX_PROMISE:
        raise ValidationError({"next_update_in": "The next update must be promised between 1 minute and 7 days ahead."})
    return display_at + next_update_in


def post_update_rows(
    incident, *, status, body, changes, affected, author, display_at, deliver_notifications, next_update_at=None
) -> IncidentUpdate:
    if next_update_at is not None and status not in UNRESOLVED_STATUSES:
        next_update_at = None  # a resolved incident promises nothing more
    update = IncidentUpdate.objects.create(
        incident=incident,
        status=status,
        body=body,
        display_at=display_at,
        author=author,
        deliver_notifications=deliver_notifications,
        next_update_at=next_update_at,
    )
    lock_components(changes)  # in primary-key order, whatever order the caller (or a client's JSON) gave
    for component, new_status in sorted(changes.items(), key=lambda item: item[0].pk):
        apply_component_status(component, new_status, at=display_at, author=author, incident=incident, update=update)
    touched = list(changes) + affected
    if touched:
        incident.components.add(*touched)
    incident_refresh(incident)
    page_changed(incident.page_id)
    events.update_posted.send(update)
    return update


@transaction.atomic
def incident_update_edit(
    *,
    update: IncidentUpdate,
    body: str | None = None,
    display_at: datetime | None = None,
    deliver_notifications: bool | None = None,
) -> IncidentUpdate:
    """Edit an update's body, display time or notification flag (e.g. to backfill a timeline).

    A display time must keep the updates in the order they were posted.
    """
    Incident.objects.select_for_update().filter(pk=update.incident_id).first()  # one writer per incident
    update = IncidentUpdate.objects.select_for_update().select_related("incident").get(pk=update.pk)
    if body is not None:
        update.body = require_text(body, "body")
    if deliver_notifications is not None:
        update.deliver_notifications = bool(deliver_notifications)
    if display_at is not None:
        display_at = require_aware(display_at, "display_at")
        siblings = IncidentUpdate.objects.filter(incident_id=update.incident_id)
        before = siblings.filter(id__lt=update.id).aggregate(m=Max("display_at"))["m"]
        after = siblings.filter(id__gt=update.id).order_by("display_at").values_list("display_at", flat=True).first()
        if before is not None and display_at < before:
            raise ValidationError({"display_at": "An update cannot be shown before the update posted ahead of it."})
        if after is not None and display_at > after:
            raise ValidationError({"display_at": "An update cannot be shown after the update posted after it."})
        incident = update.incident
        if incident.start_override and display_at < incident.start_override and before is None:
            raise ValidationError({"display_at": "The first update cannot be shown before the incident started."})
        update.display_at = display_at
        _move_changes(update, display_at)
    update.save()
    incident_refresh(update.incident)
    page_changed(update.incident.page_id)
    return update


def _move_changes(update: IncidentUpdate, when: datetime) -> None:
    """Move the update's component changes to its new time, each kept between its neighbours in its
    component's history (which must stay in time order). The components are locked first (by primary key, as
    every writer does), so no status change lands between reading a neighbour and moving this one."""
    touched = Component.objects.filter(status_changes__update=update).select_related("page").distinct().order_by("pk")
    lock_components(touched)
    for change in update.component_changes.all():
        history = ComponentStatusChange.objects.filter(component_id=change.component_id).exclude(pk=change.pk)
        before = history.filter(id__lt=change.id).aggregate(m=Max("changed_at"))["m"]
        after = history.filter(id__gt=change.id).aggregate(m=Min("changed_at"))["m"]
        moved = max(when, before) if before else when
        moved = min(moved, after) if after else moved
        ComponentStatusChange.objects.filter(pk=change.pk).update(changed_at=moved)
    # History was rewritten: the rollups of these components are replayed from it.
    rebuild_component_days(list(touched))


@transaction.atomic
def incident_delete(*, incident: Incident) -> None:
    page_id = incident.page_id
    incident.delete()
    page_changed(page_id)


# -- the responder's edits -------------------------------------------------------------------------------

DUPLICATE_WINDOW = timedelta(minutes=10)
DUPLICATE_MESSAGE = "This message is the same as the latest update, posted less than 10 minutes ago."


def _normalised(text: str) -> str:
    return " ".join((text or "").split())


def is_probable_duplicate(incident: Incident, body: str, now: datetime | None = None) -> bool:
    """Is this message the same as the latest update's (ignoring whitespace), posted within 10 minutes?"""
    latest = incident.updates.order_by("-display_at", "-id").only("body", "created_at").first()
    if latest is None:
        return False
    now = now or timezone.now()
    return _normalised(latest.body) == _normalised(body) and now - latest.created_at <= DUPLICATE_WINDOW


@transaction.atomic
def incident_edit(*, incident: Incident, name: str | None = None, impact_override: str | None = None) -> Incident:
    """Rename an incident or change its impact override ("" clears the override)."""
    incident = Incident.objects.select_for_update().get(pk=incident.pk)
    if name is not None:
        incident.name = require_text(name, "name", 200)
    if impact_override is not None:
        if impact_override:
            require_choice(impact_override, Impact, "impact_override")
        incident.impact_override = impact_override
    incident.save(update_fields=["name", "impact_override", "updated_at"])
    incident_refresh(incident)
    page_changed(incident.page_id)
    return incident


@transaction.atomic
def incident_update_delete(*, update: IncidentUpdate) -> None:
    """Delete one update; an incident keeps at least one. Component history stays (detached)."""
    Incident.objects.select_for_update().filter(pk=update.incident_id).first()  # one writer per incident
    update = IncidentUpdate.objects.select_for_update().select_related("incident").get(pk=update.pk)
    incident = update.incident
    if incident.updates.count() <= 1:
        raise ValidationError({"update": "An incident keeps at least one update; delete the incident instead."})
    update.delete()
    incident_refresh(incident)
    page_changed(incident.page_id)


def published_postmortem(incident: Incident) -> IncidentUpdate | None:
    """The incident's postmortem update (the latest, should an older database hold more than one), or None."""
    return incident.updates.filter(status=IncidentStatus.POSTMORTEM).order_by("-display_at", "-id").first()
