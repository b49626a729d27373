"""The API's addresses: public v2 for every page (at / and under /p/<page id>/), manage v1, schema."""

from django.http import JsonResponse
from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from api import manage, manage_components, manage_pages, manage_subscribers
from api import manage_postmortems as postmortems
from api import manage_subscriber_extras as subscriber_extras
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
    """Any other path under /api/ (or a page's /p/<id>/api/): JSON naming the call, not the HTML 404."""
    call = f"{request.method} {request.path}"
    return JsonResponse({"error": f"No such API endpoint: {call} is not a call this server answers."}, status=404)


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
    ("incident_templates/<slug:template_code>", manage_components.TemplateDetailView, "incident-template"),
    ("incidents/<slug:incident_code>/postmortem", postmortems.PostmortemView, "postmortem"),
    ("incidents/<slug:incident_code>/postmortem/publish", postmortems.PostmortemPublishView, "postmortem-publish"),
    ("incidents/<slug:incident_code>/postmortem/revert", postmortems.PostmortemRevertView, "postmortem-revert"),
    ("components/<slug:component_code>/uptime", manage_pages.ComponentUptimeView, "component-uptime"),
    ("subscribers", manage_subscribers.SubscriberListView, "subscribers"),
    ("subscribers/unsubscribed", subscriber_extras.UnsubscribedView, "subscribers-unsubscribed"),
    ("subscribers/reactivate", subscriber_extras.ReactivateView, "subscribers-reactivate"),
    ("subscribers/count", subscriber_extras.CountByTypeView, "subscribers-count"),
    ("subscribers/histogram_by_state", subscriber_extras.HistogramByStateView, "subscribers-histogram"),
    # The addresses atlassian-python-api uses for these two.
    ("subscribers/histogram", subscriber_extras.HistogramByStateView, "subscribers-histogram-short"),
    ("unsubscribed", subscriber_extras.UnsubscribedView, "unsubscribed"),
    ("subscribers/<slug:subscriber_code>", subscriber_extras.SubscriberView, "subscriber"),
]
page_paths = [
    ("api/v1/pages", manage_pages.PageListView, "api-v1-pages"),
    ("api/v1/pages/<slug:page_code>", manage_pages.PageDetailView, "api-v1-page"),
    *[(v1 + route, view, f"api-v1-{name}") for route, view, name in manage_paths],
]


def with_json_suffix(route: str, view, name: str) -> list:
    """Every manage path answers also with Statuspage's `.json` suffix (the statuspageio clients use it)."""
    return [path(route, view.as_view(), name=name), path(f"{route}.json", view.as_view())]


urlpatterns = (
    [path(route, view, name=name) for route, view, name in public_paths]
    + [path(f"p/<slug:page_code>/{route}", view, name=f"page-{name}") for route, view, name in public_paths]
    + [pattern for route, view, name in page_paths for pattern in with_json_suffix(route, view, name)]
    + [
        path("api/schema", read_only(SpectacularAPIView.as_view()), name="api-schema"),
        path("api/docs", read_only(SpectacularSwaggerSplitView.as_view(url_name="api-schema")), name="api-docs"),
        re_path(r"^(?:p/[^/]+/)?api/", unknown_endpoint),  # last: only what nothing above answers
    ]
)
