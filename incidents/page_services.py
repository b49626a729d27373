"""Write path for page settings, component groups and components after they were created.

Creation lives in incidents/services.py beside the incident services; these are the edits the admin
and the manage API make. Same rules: one transaction, validate first, bump the page version.
"""

from collections.abc import Mapping

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from incidents import events, validation
from incidents.choices import ComponentStatus, IncidentStatus
from incidents.models import (
    Component,
    ComponentGroup,
    IncidentTemplate,
    IncidentTemplateComponent,
    Page,
    PageLogo,
    validate_time_zone,
)
from incidents.services.pages import lock_components, page_changed
from incidents.uptime_rollups import rebuild_component_days
from incidents.validation import clean_component_changes, require_choice, require_text

UNCHANGED = object()

PAGE_FIELDS = {"name", "time_zone", "default_language", "url", "support_url", "accent_colour"}
GROUP_FIELDS = {"name", "description", "position"}
COMPONENT_FIELDS = {"name", "description", "group", "position", "showcase", "only_show_if_degraded", "start_date"}


def _assign(obj, fields: dict, allowed: set[str]) -> None:
    unknown = set(fields) - allowed
    if unknown:
        raise ValidationError(dict.fromkeys(unknown, "This field cannot be changed here."))
    for name, value in fields.items():
        if name == "name":
            value = require_text(value, "name", 100)
        setattr(obj, name, value)
    obj.full_clean(exclude=["page", "code"])


@transaction.atomic
def page_update(*, page: Page, **fields) -> Page:
    if "time_zone" in fields:
        try:
            validate_time_zone(fields["time_zone"])
        except ValidationError as exc:
            raise ValidationError({"time_zone": exc.messages}) from None
    if "time_zone" in fields:
        lock_components(page.components.all())  # the replay rewrites them: locked first, by primary key
    page = Page.objects.select_for_update().get(pk=page.pk)  # the page last, as every writer locks it
    moved_days = "time_zone" in fields and fields["time_zone"] != page.time_zone
    _assign(page, fields, PAGE_FIELDS)
    page.save()
    if moved_days:
        # The uptime's days are the page's days: replay the history into the new ones.
        rebuild_component_days(list(page.components.select_related("page")))
    page_changed(page.pk)
    page.refresh_from_db()
    return page


@transaction.atomic
def page_make_default(*, page: Page) -> Page:
    """Serve this page at / from now on; the page that was the default stays at /p/<code>/.

    The unique constraint allows one default page: the old one is cleared, then the new one set, with both
    rows locked by primary key (page rows last, as every writer locks them; no component is touched).
    Both pages' versions move (their links change between / and /p/<code>/), and the public cache's
    mapping of / follows the new default (incidents/public_cache/state.py).
    """
    rows = Page.objects.select_for_update().filter(Q(pk=page.pk) | Q(is_default=True)).order_by("pk")
    locked = list(rows.values_list("pk", "is_default"))
    if not any(pk == page.pk for pk, _ in locked):
        raise ValidationError({"page": "This page no longer exists."})
    old = [pk for pk, is_default in locked if is_default and pk != page.pk]
    if old:
        now = timezone.now()
        Page.objects.filter(pk__in=old).update(is_default=False, updated_at=now)
        Page.objects.filter(pk=page.pk).update(is_default=True, updated_at=now)
        for pk in old:
            page_changed(pk)  # its own state; "@default" is cleared below by the new default's
            events.fields_updated.send(Page.objects.get(pk=pk), {"is_default": True}, {"is_default": False})
        page_changed(page.pk)
    elif not dict(locked)[page.pk]:
        Page.objects.filter(pk=page.pk).update(is_default=True, updated_at=timezone.now())
        page_changed(page.pk)
    was_default = dict(locked)[page.pk]
    page.refresh_from_db()
    if not was_default:
        events.fields_updated.send(page, {"is_default": False}, {"is_default": True})
    return page


@transaction.atomic
def component_update(
    *,
    component: Component,
    name: str | None = None,
    description: str | None = None,
    group=UNCHANGED,
    position: int | None = None,
    showcase: bool | None = None,
    only_show_if_degraded: bool | None = None,
    start_date=UNCHANGED,
) -> Component:
    """Change a component's attributes; its status changes only through component_set_status (history)."""
    component = Component.objects.select_for_update().get(pk=component.pk)
    if name is not None:
        component.name = require_text(name, "name", 100)
    if description is not None:
        component.description = validation.optional_text(description, "description")
    if group is not UNCHANGED:
        if group is not None and group.page_id != component.page_id:
            raise ValidationError({"group": f"The group {group} does not belong to the page of {component}."})
        component.group = group
    if position is not None:
        component.position = position
    if showcase is not None:
        component.showcase = bool(showcase)
    if only_show_if_degraded is not None:
        component.only_show_if_degraded = bool(only_show_if_degraded)
    if start_date is not UNCHANGED:
        component.start_date = start_date
    component.save()
    if start_date is not UNCHANGED:
        rebuild_component_days([component])  # the days it has data for changed
    page_changed(component.page_id)
    return component


@transaction.atomic
def component_delete(*, component: Component) -> None:
    """Delete a component; its incidents stay, without it."""
    page_id = component.page_id
    component.delete()
    page_changed(page_id)


@transaction.atomic
def component_group_update(
    *,
    group: ComponentGroup,
    name: str | None = None,
    description: str | None = None,
    position: int | None = None,
    components: list[Component] | None = None,
) -> ComponentGroup:
    """Rename, describe or move a group; `components`, when given, becomes its whole membership."""
    for component in components or []:
        if component.page_id != group.page_id:
            raise ValidationError({"components": f"Component {component} does not belong to the page."})
    group = ComponentGroup.objects.select_for_update().get(pk=group.pk)
    if name is not None:
        group.name = require_text(name, "name", 100)
    if description is not None:
        group.description = validation.optional_text(description, "description")
    if position is not None:
        group.position = position
    group.save()
    if components is not None:
        lock_components([*group.components.all(), *components])  # by primary key, as every writer does
        keep = [c.pk for c in components]
        Component.objects.filter(group=group).exclude(pk__in=keep).update(group=None, updated_at=timezone.now())
        Component.objects.filter(pk__in=keep).exclude(group=group).update(group=group, updated_at=timezone.now())
    page_changed(group.page_id)
    return group


@transaction.atomic
def component_group_delete(*, group: ComponentGroup) -> None:
    """Delete a group; its components stay on the page, ungrouped."""
    page_id = group.page_id
    group.delete()
    page_changed(page_id)


@transaction.atomic
def incident_template_create(
    *,
    page: Page,
    name: str,
    title: str,
    body: str,
    update_status: str = IncidentStatus.INVESTIGATING,
    should_send_notifications: bool = True,
    components: list[Component] | Mapping[Component, str] | None = None,
) -> IncidentTemplate:
    """A template; `components` lists the page's components it concerns, or maps them to the status it sets
    ("" for affected with the status unchanged)."""
    template = IncidentTemplate(
        page=page,
        name=require_text(name, "name", 100),
        title=require_text(title, "title", 200),
        body=require_text(body, "body"),
        update_status=require_choice(update_status, IncidentStatus, "update_status"),
        should_send_notifications=bool(should_send_notifications),
    )
    statuses = _template_statuses(page, components or [])
    template.save()
    _link_template_components(template, statuses)
    return template


def _template_statuses(page: Page, components) -> dict[Component, str]:
    """A template's components as {component: status, "" for affected only}, checked against the page."""
    statuses = dict(components) if isinstance(components, Mapping) else dict.fromkeys(components, "")
    clean_component_changes(page, {c: status or ComponentStatus.OPERATIONAL for c, status in statuses.items()})
    return statuses


def _link_template_components(template: IncidentTemplate, statuses: dict[Component, str]) -> None:
    IncidentTemplateComponent.objects.bulk_create(
        IncidentTemplateComponent(template=template, component=component, status=status or "")
        for component, status in statuses.items()
    )


LOGO_MAX_BYTES = 200 * 1024
# Raster formats only: an SVG can carry script, and a logo needs none of that.
LOGO_SIGNATURES = {
    b"\x89PNG\r\n\x1a\n": "image/png",
    b"\xff\xd8\xff": "image/jpeg",
    b"GIF87a": "image/gif",
    b"GIF89a": "image/gif",
}


def _logo_type(data: bytes) -> str | None:
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return next((kind for magic, kind in LOGO_SIGNATURES.items() if data.startswith(magic)), None)


def check_logo(data: bytes) -> str:
    """The image type of an acceptable logo, or a ValidationError that says what is wrong."""
    if len(data) > LOGO_MAX_BYTES:
        raise ValidationError({"logo": f"The logo must be at most {LOGO_MAX_BYTES // 1024} KB."})
    kind = _logo_type(data)
    if kind is None:
        raise ValidationError({"logo": "The logo must be a PNG, JPEG, GIF or WebP image."})
    return kind


@transaction.atomic
def page_set_logo(*, page: Page, data: bytes | None) -> Page:
    """Set (or with None, remove) the logo shown in the public page's header. PNG, JPEG, GIF or WebP."""
    if data:
        kind = check_logo(data)
        PageLogo.objects.update_or_create(page_id=page.pk, defaults={"data": data})
    else:
        kind = ""
        PageLogo.objects.filter(page_id=page.pk).delete()
    before = page.logo_type
    Page.objects.filter(pk=page.pk).update(logo_type=kind)
    page_changed(page.pk)
    page.refresh_from_db()
    events.fields_updated.send(page, {"logo": before or None}, {"logo": kind or None})
    return page


@transaction.atomic
def incident_template_update(
    *,
    template: IncidentTemplate,
    components: list[Component] | Mapping[Component, str] | None = None,
    **fields,
) -> IncidentTemplate:
    """Change a template's name, title, body, stage or notification flag; `components`, when given, becomes
    its whole set of components (mapped to the status it sets, "" for affected only)."""
    template = IncidentTemplate.objects.select_for_update().get(pk=template.pk)
    checks = {"name": 100, "title": 200, "body": None}
    unknown = set(fields) - {*checks, "update_status", "should_send_notifications"}
    if unknown:
        raise ValidationError(dict.fromkeys(unknown, "This field cannot be changed here."))
    for name, value in fields.items():
        if name in checks:
            value = require_text(value, name, checks[name])
        elif name == "update_status":
            value = require_choice(value, IncidentStatus, "update_status")
        else:
            value = bool(value)
        setattr(template, name, value)
    statuses = None if components is None else _template_statuses(template.page, components)
    template.save()
    if statuses is not None:
        IncidentTemplateComponent.objects.filter(template=template).delete()
        _link_template_components(template, statuses)
    return template


@transaction.atomic
def incident_template_delete(*, template: IncidentTemplate) -> None:
    IncidentTemplate.objects.filter(pk=template.pk).delete()
