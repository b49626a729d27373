"""The public site: the status page, one incident, and the history. No per-visitor content."""

from collections import OrderedDict
from datetime import timedelta

from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.paginator import Paginator
from django.db import DatabaseError
from django.db.models import Prefetch
from django.http import Http404, HttpResponse, HttpResponseNotFound, HttpResponseServerError
from django.shortcuts import render
from django.template import loader
from django.utils.cache import patch_cache_control

from incidents.caching import public_view
from incidents.choices import UNRESOLVED_STATUSES, MaintenanceStatus
from incidents.ical import calendar_of
from incidents.models import Component, ComponentGroup, Incident, IncidentUpdate, Page, PageLogo
from incidents.presentation import (
    affected_line,
    calendar_months,
    excerpt,
    format_day,
    incident_summary,
    label_updates,
    local,
    maintenance_summary,
)
from incidents.search import MAX_QUERY_LENGTH, BadQuery, history_query, normalise_query, page_number, search_incidents
from incidents.status import page_status, worst_component_status
from incidents.uptime import DEFAULT_DAYS, component_uptimes, partial_weight

# What the home page shows above the components: open incidents, and maintenances not yet completed.
CURRENT_STATUSES = (
    *UNRESOLVED_STATUSES,
    MaintenanceStatus.SCHEDULED,
    MaintenanceStatus.IN_PROGRESS,
    MaintenanceStatus.VERIFYING,
)
PAST_DAYS = 15
HISTORY_PER_PAGE = 20


def _with_updates(incidents):
    """Incidents with their updates labelled, newest first (one extra query for all of them)."""
    incidents = incidents.prefetch_related(
        Prefetch("updates", queryset=IncidentUpdate.objects.order_by("display_at", "id"), to_attr="timeline")
    )
    incidents = list(incidents)
    for incident in incidents:
        label_updates(incident.timeline)
        incident.timeline.reverse()
    return incidents


def component_rows(page):
    """Top-level rows in page order: ungrouped components and groups (with their visible children)."""
    groups = list(ComponentGroup.objects.filter(page=page))
    components = list(Component.objects.filter(page=page).select_related("status_change__incident"))
    children: dict[int, list[Component]] = {g.id: [] for g in groups}
    rows = []
    for component in components:
        if component.group_id is not None:
            children[component.group_id].append(component)
        elif component.is_visible:
            rows.append(((component.position, 1, component.id), {"component": component}))
    for group in groups:
        kids = children[group.id]
        visible = [c for c in kids if c.is_visible]
        if not visible:
            continue
        group.status = worst_component_status(c.status for c in kids)
        rows.append(((group.position, 0, group.id), {"group": group, "children": visible}))
    rows.sort(key=lambda row: row[0])
    return [row for _, row in rows], components


def split_maintenances(incidents, now) -> tuple[list, list]:
    """The maintenances under way (in progress or verifying), and those still to come, by start.

    A maintenance still "scheduled" after its window ended (nobody started it) is not to come: it is left out.
    """
    maintenances = sorted((i for i in incidents if i.is_maintenance), key=lambda i: (i.scheduled_for, i.id))
    in_progress = [m for m in maintenances if m.is_active_maintenance]
    upcoming = [m for m in maintenances if m.is_upcoming and (m.scheduled_until is None or m.scheduled_until > now)]
    return in_progress, upcoming


@public_view
def home(request, page, now):
    rows, components = component_rows(page)
    current = _with_updates(
        Incident.objects.filter(page=page, status__in=CURRENT_STATUSES).order_by("-last_update_at", "-id")
    )
    open_incidents = [i for i in current if i.is_open]
    in_progress, upcoming = split_maintenances(current, now)
    status = page_status([c.status for c in components], [i.impact for i in open_incidents])

    tz = page.tz
    today = local(now, tz).date()
    first_day = today - timedelta(days=PAST_DAYS - 1)
    recent = _with_updates(
        Incident.objects.filter(page=page, started_at__gte=now - timedelta(days=PAST_DAYS + 1)).order_by(
            "-started_at", "-id"
        )
    )
    days = OrderedDict((today - timedelta(days=n), []) for n in range(PAST_DAYS))
    for incident in recent:
        day = local(incident.started_at, tz).date()
        if first_day <= day <= today:
            days[day].append(incident)

    showcased = [c for c in components if c.showcase and c.is_visible]
    uptimes = {u.component.pk: u for u in component_uptimes(showcased, tz, now)} if showcased else {}
    for component in components:
        component.uptime = uptimes.get(component.pk)

    return render(
        request,
        "status/home.html",
        {
            "page": page,
            "status": status,
            "rows": rows,
            "uptime_days": DEFAULT_DAYS,
            "open_incidents": open_incidents,
            "maintenances_in_progress": in_progress,
            "maintenances": upcoming,
            "past_days": [(format_day(day), incidents) for day, incidents in days.items()],
            "now": now,
        },
    )


@public_view
def incident_detail(request, page, now, code: str):
    found = _with_updates(Incident.objects.filter(page=page, code=code))
    if not found:
        raise Http404("No such incident.")
    incident = found[0]
    components = list(incident.components.select_related("group"))
    return render(
        request,
        "status/incident.html",
        {
            "page": page,
            "incident": incident,
            "summary": maintenance_summary(incident, page)
            if incident.is_maintenance
            else incident_summary(incident, page, components, now),
            "affected": affected_line(components),
            "now": now,
        },
    )


@public_view
def history(request, page, now, number: int | None = None):
    # Past and current only: a maintenance still to come is on the status page and in its calendar.
    incidents = Incident.objects.filter(page=page, started_at__lte=now).order_by("-started_at", "-id")
    try:
        query = history_query(request.GET.get("q"))
    except BadQuery as error:
        # Refused before any search runs; the form stays, with the message, to try again (not cached: a 400).
        shown = normalise_query((request.GET.get("q") or "")[: MAX_QUERY_LENGTH * 2])
        context = {"page": page, "months": {}, "query": shown, "query_error": str(error), "now": now}
        return render(request, "status/history.html", {**context, "max_query_length": MAX_QUERY_LENGTH}, status=400)
    if query:
        incidents = search_incidents(incidents, query)
    paginator = Paginator(incidents, HISTORY_PER_PAGE)
    page_obj = paginator.get_page(number or page_number(request.GET.get("page")))
    tz = page.tz
    months: OrderedDict[str, list] = OrderedDict()
    for incident in _with_updates(page_obj.object_list):
        # The latest update's prose; if it has none (a table only), the one before it.
        incident.excerpt = next(filter(None, (excerpt(u.body) for u in incident.timeline)), "")
        month = local(incident.started_at, tz)
        months.setdefault(f"{month:%B} {month.year}", []).append(incident)
    return render(
        request,
        "status/history.html",
        {
            "page": page,
            "months": months,
            "page_obj": page_obj,
            "query": query,
            "now": now,
            "max_query_length": MAX_QUERY_LENGTH,
        },
    )


@public_view
def logo(request, page, now):
    data = PageLogo.objects.filter(page=page).values_list("data", flat=True).first() if page.logo_type else None
    if not data:
        raise Http404("This page has no logo.")
    return HttpResponse(bytes(data), content_type=page.logo_type)


@public_view
def uptime(request, page, now):
    """A calendar per showcased component and month over the uptime window, every day spelled out."""
    tz = page.tz
    components = Component.objects.filter(page=page).select_related("group", "status_change__incident")
    components = [c for c in components if c.showcase]
    uptimes = component_uptimes(components, tz, now)
    for item in uptimes:
        item.months = calendar_months(item.days)
    context = {
        "page": page,
        "uptimes": uptimes,
        "now": now,
        "days": DEFAULT_DAYS,
        "partial": round(partial_weight() * 100),
    }
    return render(request, "status/uptime.html", context)


@public_view
def maintenance_calendar(request, page, now):
    """An iCalendar feed of the page's maintenances, for calendar apps to subscribe to."""
    maintenances = _with_updates(
        Incident.objects.filter(page=page, scheduled_for__isnull=False).order_by("-scheduled_for")[:200]
    )
    # Links come from SITE_URL, never from the request's Host: the response is cached for every visitor.
    body = calendar_of(page, maintenances, settings.SITE_URL, now)
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="maintenance.ics"'
    return response


# -- errors and the favicon: no per-visitor content either ----------------------------------------------------


def _page_of(path: str):
    """The status page an address belongs to (/p/<code>/… or the default page), or None (or no database)."""
    parts = path.split("/")
    code = parts[2] if len(parts) > 2 and parts[1] == "p" else None
    pages = Page.objects
    try:
        return pages.filter(code=code).first() if code else pages.filter(is_default=True).first()
    except DatabaseError:
        return None


def page_not_found(request, exception=None):
    """handler404: the page's own look, with a way back to its status."""
    body = loader.render_to_string("404.html", {"page": _page_of(request.path)})
    return HttpResponseNotFound(body)


def server_error(request):
    """handler500: no database, no request context (either may be what failed)."""
    return HttpResponseServerError(loader.render_to_string("500.html", {"page": None}))


def favicon(request):
    """/favicon.ico, which browsers ask for whatever the page links: the SVG icon."""
    with open(finders.find("favicon.svg"), "rb") as icon:
        response = HttpResponse(icon.read(), content_type="image/svg+xml")
    patch_cache_control(response, public=True, max_age=86400)
    return response
