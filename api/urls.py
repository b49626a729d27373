"""The API's addresses: public v2 for every page (at / and under /p/<page id>/), manage v1, schema."""

from django.http import JsonResponse
from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from api import manage, manage_components, manage_subscribers
from api.public import public_api, public_views

public_paths = [(f"api/v2/{route}", public_api(view), f"api-v2-{name}") for route, view, name in public_views]


def read_only(view):
    """The schema and its docs: a write answers the API's JSON 405 (not the schema renderer's YAML)."""

    def wrapper(request, *args, **kwargs):
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            response = JsonResponse({"error": f"Method {request.method} not allowed."}, status=405)
            response["Allow"] = "GET, HEAD, OPTIONS"
            return response
        return view(request, *args, **kwargs)

    return wrapper


def unknown_endpoint(request, *args, **kwargs):
    """Any other path under /api/ (or a page's /p/<id>/api/): JSON, as every API answer, not the HTML 404."""
    return JsonResponse({"error": "No such API endpoint."}, status=404)


v1 = "api/v1/pages/<slug:page_code>/"
manage_paths = [
    ("incidents", manage.IncidentListView, "incidents"),
    ("metrics", manage.PageMetricsView, "metrics"),
    ("incidents/unresolved", manage.UnresolvedIncidentsView, "incidents-unresolved"),
    ("incidents/scheduled", manage.ScheduledMaintenancesView, "incidents-scheduled"),
    ("incidents/upcoming", manage.ScheduledMaintenancesView, "incidents-upcoming"),
    ("incidents/active_maintenance", manage.ActiveMaintenancesView, "incidents-active-maintenance"),
    ("incidents/<slug:incident_code>", manage.IncidentDetailView, "incident"),
    ("incidents/<slug:incident_code>/incident_updates/<slug:update_code>", manage.IncidentUpdateView, "update"),
    ("components", manage_components.ComponentListView, "components"),
    ("components/<slug:component_code>", manage_components.ComponentDetailView, "component"),
    ("component-groups", manage_components.GroupListView, "component-groups"),
    ("component-groups/<slug:group_code>", manage_components.GroupDetailView, "component-group"),
    ("incident_templates", manage_components.TemplateListView, "incident-templates"),
    ("subscribers", manage_subscribers.SubscriberListView, "subscribers"),
    ("subscribers/<slug:subscriber_code>", manage_subscribers.SubscriberDetailView, "subscriber"),
]

urlpatterns = (
    [path(route, view, name=name) for route, view, name in public_paths]
    + [path(f"p/<slug:page_code>/{route}", view, name=f"page-{name}") for route, view, name in public_paths]
    + [path(v1 + route, view.as_view(), name=f"api-v1-{name}") for route, view, name in manage_paths]
    + [
        path("api/schema", read_only(SpectacularAPIView.as_view()), name="api-schema"),
        path("api/docs", read_only(SpectacularSwaggerSplitView.as_view(url_name="api-schema")), name="api-docs"),
        re_path(r"^(?:p/[^/]+/)?api/", unknown_endpoint),  # last: only what nothing above answers
    ]
)
