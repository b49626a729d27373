"""The public site: the status page, one incident, and the history. No per-visitor content."""

from collections import OrderedDict
from datetime import timedelta

from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.paginator import Paginator
from django.db import DatabaseError
from django.http import Http404, HttpResponse, HttpResponseNotFound, HttpResponseServerError
from django.shortcuts import render
from django.template import loader
from django.utils.cache import patch_cache_control
from django.utils.dates import WEEKDAYS

from incidents import access, languages, selectors
from incidents.choices import Visibility
from incidents.ical import calendar_of
from incidents.models import Incident, Page, PageLogo
from incidents.presentation import (
    affected_line,
    calendar_months,
    excerpt,
    format_day,
    format_month,
    incident_summary,
    local,
    maintenance_summary,
)
from incidents.public_cache import fragments
from incidents.public_cache.views import public_view
from incidents.search import MAX_QUERY_LENGTH, BadQuery, history_query, normalise_query, page_number, search_incidents
from incidents.status import page_status
from incidents.uptime import DEFAULT_DAYS, component_uptimes, partial_weight
from incidents.uptime_fragments import component_rows_html

PAST_DAYS = 15
HISTORY_PER_PAGE = 20


def component_rows(request, page):
    """Top-level rows in page order: ungrouped components and groups (with their visible children), as far
    as this request may see them (an audience group sees its own components only)."""
    return access.visible_layout(request, *selectors.public_layout(page))


def past_incidents_html(page, now, seen) -> list[Incident]:
    """The incidents of the last PAST_DAYS days that this request may see (`seen`), each with `.html`: its
    listing (which names no component), rendered once per process for what it depends on (public_cache.fragments):
    its own fields, its updates, the page's zone and address."""
    recent = selectors.recent_incidents(page, now, PAST_DAYS, seen)
    shared = (page.time_zone, page.public_url("home"))
    for incident in recent:
        key = ("past", incident.pk, incident.code, incident.name, incident.impact, incident.update_rows, shared)
        incident.html = fragments.get(key)
        if incident.html is None:
            incident.timeline = selectors.timeline_of(incident)
            incident.html = fragments.render(key, "status/_past_incident.html", {"incident": incident, "page": page})
    return recent


def current_state(request, page, now):
    """What the status page shows on top (also /embed): rows and components, open incidents, maintenances in
    progress and upcoming, and the page's status."""
    rows, components = component_rows(request, page)
    seen = access.incident_filter(request)
    current = selectors.current_incidents(page, seen)
    open_incidents = [i for i in current if i.is_open]
    in_progress, upcoming = selectors.split_maintenances(current, now)
    status = page_status([c.status for c in components], [i.impact for i in open_incidents])
    return rows, components, open_incidents, in_progress, upcoming, status, seen


@public_view
def home(request, page, now):
    rows, components, open_incidents, in_progress, upcoming, status, seen = current_state(request, page, now)

    tz = page.tz
    today = local(now, tz).date()
    first_day = today - timedelta(days=PAST_DAYS - 1)
    days = OrderedDict((today - timedelta(days=n), []) for n in range(PAST_DAYS))
    for incident in past_incidents_html(page, now, seen):
        day = local(incident.started_at, tz).date()
        if first_day <= day <= today:
            days[day].append(incident)

    component_rows_html(page, [c for c in components if c.is_visible], now, DEFAULT_DAYS)

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
    found = selectors.with_timelines(Incident.objects.filter(access.incident_filter(request), page=page, code=code))
    if not found:
        raise Http404("No such incident.")
    incident = found[0]
    components = access.visible_components(request, selectors.affected_components(incident))
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
    incidents = selectors.history_incidents(page, now).filter(access.incident_filter(request))
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
    if number is not None and (number < 2 or number > paginator.num_pages or not request.path.endswith(f"/{number}")):
        # The path form names real pages only (page 1 is /history; no leading zeros): any other number would be
        # a new address to render and store for each visitor who types one.
        raise Http404("No such history page.")
    page_obj = paginator.get_page(number or page_number(request.GET.get("page")))
    tz = page.tz
    months: OrderedDict[str, list] = OrderedDict()
    for incident in selectors.with_timelines(page_obj.object_list):
        # The latest update's prose; if it has none (a table only), the one before it.
        incident.excerpt = next(filter(None, (excerpt(u.body) for u in incident.timeline)), "")
        month = local(incident.started_at, tz)
        months.setdefault(format_month(month), []).append(incident)
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
    components = [c for c in access.visible_components(request, selectors.page_components(page)) if c.showcase]
    uptimes = component_uptimes(components, tz, now)
    for item in uptimes:
        item.months = calendar_months(item.days)
    context = {
        "page": page,
        "uptimes": uptimes,
        "now": now,
        "days": DEFAULT_DAYS,
        "partial": round(partial_weight() * 100),
        # Monday first: the full name (for the abbr's title) and its first letter, in the page's language.
        "weekdays": [(str(WEEKDAYS[n]), str(WEEKDAYS[n])[0].upper()) for n in range(7)],
    }
    return render(request, "status/uptime.html", context)


@public_view
def maintenance_calendar(request, page, now):
    """An iCalendar feed of the page's maintenances, for calendar apps to subscribe to."""
    maintenances = selectors.with_timelines(
        Incident.objects.filter(access.incident_filter(request), page=page, scheduled_for__isnull=False).order_by(
            "-scheduled_for"
        )[:200]
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
        # A non-public page lends its name to nobody's 404 (the visitor may have no access).
        pages = pages.filter(visibility=Visibility.PUBLIC)
        return pages.filter(code=code).first() if code else pages.filter(is_default=True).first()
    except DatabaseError:
        return None


def _language_of(path: str) -> tuple[str | None, str]:
    """The language code an address starts with (/fr/…), or None, and the address without it."""
    code = path.split("/")[1] if path.count("/") > 1 else ""
    return (code, languages.unprefixed(path, code)) if code in languages.codes() else (None, path)


def page_not_found(request, exception=None):
    """handler404: the page's own look and language, with a way back to its status."""
    lang, path = _language_of(request.path)
    page = _page_of(path)
    with languages.speaking(page.default_language if page else settings.LANGUAGE_CODE, lang):
        body = loader.render_to_string("404.html", {"page": page})
    return HttpResponseNotFound(body)


def server_error(request):
    """handler500: no database, no request context (either may be what failed); the address's language."""
    with languages.speaking(settings.LANGUAGE_CODE, _language_of(request.path)[0]):
        return HttpResponseServerError(loader.render_to_string("500.html", {"page": None}))


def favicon(request):
    """/favicon.ico, which browsers ask for whatever the page links: the SVG icon."""
    with open(finders.find("favicon.svg"), "rb") as icon:
        response = HttpResponse(icon.read(), content_type="image/svg+xml")
    patch_cache_control(response, public=True, max_age=86400)
    return response
