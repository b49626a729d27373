"""Public API v2: read-only, no authentication, open to every origin, cached and ETagged by page version."""

from functools import wraps

from django.conf import settings
from django.http import Http404, HttpResponse, JsonResponse
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from api import serializers
from api.serializers import render
from incidents import access, selectors
from incidents.choices import ACTIVE_MAINTENANCE_STATUSES, UNRESOLVED_STATUSES, MaintenanceStatus
from incidents.models import Incident
from incidents.public_cache.views import public_view

RECENT_INCIDENTS = 50
CURRENT_MAINTENANCE = (MaintenanceStatus.SCHEDULED, *ACTIVE_MAINTENANCE_STATUSES)  # summary.json: upcoming and active
# CORS: an answer carries what a browser reads of a simple request; the methods, request headers and max-age
# matter on the preflight (OPTIONS) only, so only it carries them (every header costs a cached hit its share).
CORS_HEADERS = {"Access-Control-Allow-Origin": "*", "Access-Control-Expose-Headers": "ETag"}
PREFLIGHT_HEADERS = {
    **CORS_HEADERS,
    "Access-Control-Allow-Methods": "GET, HEAD, OPTIONS",
    "Access-Control-Allow-Headers": "If-None-Match, If-Modified-Since",
    "Access-Control-Max-Age": "86400",
}


def public_api(view_class):
    """The view behind its URL: only safe methods, CORS headers, JSON 404s, and incidents.public_cache's cache."""
    cached = public_view(view_class.as_view(), max_age=settings.API_CACHE_MAX_AGE, headers=CORS_HEADERS)

    @wraps(cached)
    def view(request, *args, **kwargs):
        if request.method == "OPTIONS":
            response = HttpResponse(status=204, headers=PREFLIGHT_HEADERS)
        elif request.method not in ("GET", "HEAD"):
            response = JsonResponse({"error": f"Method {request.method} not allowed."}, status=405)
            response["Allow"] = "GET, HEAD, OPTIONS"
        else:
            try:
                response = cached(request, *args, **kwargs)
            except Http404:
                response = JsonResponse({"error": "No such status page."}, status=404)
        if "Access-Control-Allow-Origin" not in response:  # a cached answer or a 304 carries them already
            for name, value in CORS_HEADERS.items():
                response[name] = value
        return response

    return view


class PublicView(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]
    renderer_classes = [JSONRenderer]
    throttle_classes = []


def _seen(request, page):
    """The page's incidents this request may see (an audience group: its own only; incidents.access)."""
    return Incident.objects.filter(access.incident_filter(request), page=page)


def _incidents(request, queryset):
    """With details; no component another audience group sees is named in them."""
    return access.trim_incidents(request, list(selectors.with_details(queryset)))


def _components(request, page):
    """(components and groups as listed, components) as the request may see them."""
    rows, components = access.visible_layout(request, *selectors.page_layout(page))
    return selectors.listed_components(rows), components


def _recent(request, page):
    incidents = _seen(request, page).filter(scheduled_for__isnull=True)
    return incidents.order_by("-last_update_at", "-id")[:RECENT_INCIDENTS]


def _unresolved(request, page):
    return _seen(request, page).filter(status__in=UNRESOLVED_STATUSES).order_by("-last_update_at", "-id")


def _maintenances(request, page, statuses=None):
    """The page's maintenances, latest window first: 50 of any status, or all those in `statuses`."""
    maintenances = _seen(request, page).filter(scheduled_for__isnull=False).order_by("-scheduled_for", "-id")
    if statuses is None:
        maintenances = maintenances[:RECENT_INCIDENTS]
    else:
        maintenances = maintenances.filter(status__in=statuses)
    return _incidents(request, maintenances)


def _answer(document_class, page, **objects):
    return Response(render(document_class, {"page": page, **objects}, page))


@extend_schema(tags=["public"], responses=serializers.Summary, summary="Page, components, open incidents and status")
class SummaryView(PublicView):
    def get(self, request, page, now):
        every = selectors.page_layout(page)
        layout, visible = access.visible_layout(request, *every)
        seen = access.incident_filter(request)
        unresolved, maintenances = selectors.open_incidents_and_maintenances(page, CURRENT_MAINTENANCE, seen, every[1])
        access.trim_incidents(request, unresolved + maintenances)
        return _answer(
            serializers.Summary,
            page,
            components=selectors.listed_components(layout),
            incidents=unresolved,
            scheduled_maintenances=maintenances,
            status=selectors.status_of(page, visible, unresolved),
        )


@extend_schema(tags=["public"], responses=serializers.StatusDocument, summary="The page's status indicator")
class StatusView(PublicView):
    def get(self, request, page, now):
        _, rows = _components(request, page)
        status = selectors.status_of(page, rows, seen=access.incident_filter(request))
        return _answer(serializers.StatusDocument, page, status=status)


@extend_schema(tags=["public"], responses=serializers.ComponentsDocument, summary="Every component, groups included")
class ComponentsView(PublicView):
    def get(self, request, page, now):
        components, _ = _components(request, page)
        return _answer(serializers.ComponentsDocument, page, components=components)


@extend_schema(tags=["public"], responses=serializers.IncidentsDocument, summary="The 50 most recent incidents")
class IncidentsView(PublicView):
    def get(self, request, page, now):
        return _answer(serializers.IncidentsDocument, page, incidents=_incidents(request, _recent(request, page)))


@extend_schema(tags=["public"], responses=serializers.IncidentsDocument, summary="Unresolved incidents")
class UnresolvedIncidentsView(PublicView):
    def get(self, request, page, now):
        return _answer(serializers.IncidentsDocument, page, incidents=_incidents(request, _unresolved(request, page)))


@extend_schema(
    tags=["public"],
    responses={200: serializers.IncidentDocument, 404: OpenApiResponse(serializers.Error)},
    summary="One incident",
)
class IncidentView(PublicView):
    def get(self, request, page, now, code):
        found = _incidents(request, _seen(request, page).filter(code=code))
        if not found:
            raise Http404("No such incident.")
        return _answer(serializers.IncidentDocument, page, incident=found[0])


class MaintenancesBase(PublicView):
    statuses: tuple | None = None

    def get(self, request, page, now):
        return _answer(
            serializers.MaintenancesDocument, page, scheduled_maintenances=_maintenances(request, page, self.statuses)
        )


@extend_schema(tags=["public"], responses=serializers.MaintenancesDocument, summary="The 50 most recent maintenances")
class MaintenancesView(MaintenancesBase):
    pass


@extend_schema(tags=["public"], responses=serializers.MaintenancesDocument, summary="Maintenances still to come")
class UpcomingMaintenancesView(MaintenancesBase):
    statuses = (MaintenanceStatus.SCHEDULED,)


@extend_schema(tags=["public"], responses=serializers.MaintenancesDocument, summary="Maintenances in progress")
class ActiveMaintenancesView(MaintenancesBase):
    statuses = ACTIVE_MAINTENANCE_STATUSES


public_views = [
    ("summary.json", SummaryView, "summary"),
    ("status.json", StatusView, "status"),
    ("components.json", ComponentsView, "components"),
    ("incidents.json", IncidentsView, "incidents"),
    ("incidents/unresolved.json", UnresolvedIncidentsView, "incidents-unresolved"),
    ("incidents/<slug:code>.json", IncidentView, "incident"),
    ("scheduled-maintenances.json", MaintenancesView, "maintenances"),
    ("scheduled-maintenances/upcoming.json", UpcomingMaintenancesView, "maintenances-upcoming"),
    ("scheduled-maintenances/active.json", ActiveMaintenancesView, "maintenances-active"),
]
