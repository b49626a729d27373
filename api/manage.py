"""Manage API v1 (/api/v1/pages/<page id>/…): the base view, lookups and incident endpoints.

Every write goes through incidents/services.py; responses are the objects in the public v2 shape.
"""

from datetime import timedelta

from django.db import transaction
from django.db.models import Q
from django.http import Http404
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import audit
from accounts.roles import pages_of
from api import inputs, serializers
from api.auth import ApiKeyAuthentication, ApiKeyRateThrottle
from api.pagination import PerPagePagination
from api.permissions import HasPermissions, reachable_page
from api.serializers import render, render_incidents
from incidents import selectors, services
from incidents.choices import ACTIVE_MAINTENANCE_STATUSES, UNRESOLVED_STATUSES, IncidentStatus, MaintenanceStatus
from incidents.metrics import incident_metrics, mean_time_to_resolve_by_component
from incidents.models import Component, Incident, IncidentUpdate, Page
from incidents.services.maintenance import DEFAULT_MESSAGES as MAINTENANCE_MESSAGES
from incidents.services.maintenance import maintenance_create

ERRORS = {
    400: OpenApiResponse(serializers.Error, description="Malformed body"),
    401: OpenApiResponse(serializers.Error, description="No key, or a bad or revoked key"),
    403: OpenApiResponse(serializers.Error, description="The key's user lacks the role"),
    404: OpenApiResponse(serializers.Error, description="Unknown page or object"),
    422: OpenApiResponse(serializers.Error, description="Invalid values"),
    429: OpenApiResponse(serializers.Error, description="Over the rate limit (see Retry-After)"),
}
LIST_PARAMETERS = PerPagePagination.parameters()


def responses(ok_status: int, serializer, *, errors=(401, 403, 404, 422, 429)) -> dict:
    return {ok_status: serializer, **{code: ERRORS[code] for code in errors}}


class ManageView(APIView):
    """A view of one page's resources. `required_permissions` maps each method (GET for the safe ones) to the
    Django permissions it needs on the page (api/permissions.py); PUT is PATCH.

    The page is the URL's `page_code`, looked up once, before the permissions are checked: a page the key does
    not reach answers 404 like an unknown one, for every view built on this one. A view of no single page (no
    `page_code`) is checked on every page at once and lists only `reachable_pages()`."""

    authentication_classes = [ApiKeyAuthentication]
    throttle_classes = [ApiKeyRateThrottle]
    parser_classes = [inputs.JSONParser, FormParser, MultiPartParser]
    renderer_classes = [JSONRenderer]
    paging = PerPagePagination  # not pagination_class: drf-spectacular would then page every list it sees
    required_permissions: dict[str, tuple[str, ...]] = {}

    def get_permissions(self):
        return [HasPermissions()]

    def require(self, *perms: str) -> None:
        HasPermissions(*perms).check(self.request, self)

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "patch" in cls.__dict__:
            cls.put = cls.patch  # Statuspage's PUT is a partial update: the same as PATCH

    def page_object(self) -> Page | None:
        """The URL's page if the request's key reaches it (else 404); None for a view of no single page."""
        if "page_code" not in self.kwargs:
            return None
        if not hasattr(self, "_page"):
            self._page = reachable_page(self.request, Page.objects.filter(code=self.kwargs["page_code"]).first())
        return self._page

    def http_method_not_allowed(self, request, *args, **kwargs):
        allowed = ", ".join(m for m in self.allowed_methods if m not in ("HEAD", "OPTIONS"))
        raise exceptions.MethodNotAllowed(
            request.method, detail=f"{request.method} {request.path} is not a call this server answers ({allowed} are)."
        )

    def page(self, page_code: str) -> Page:
        return self.page_object()

    def reachable_pages(self):
        """The pages the request's key may reach."""
        return pages_of(self.request.user).filter(api_keys=self.request.auth)

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        audit.set_actor(user=request.user, key=request.auth)  # the audit log names the key behind API writes

    def paginate(self, queryset):
        return self.paging().paginate_queryset(queryset, self.request, self)

    def components_by_code(self, page: Page, codes, field: str) -> dict[str, Component]:
        codes = list(codes)
        found = {c.code: c for c in Component.objects.filter(page=page, code__in=codes).select_related("group")}
        missing = [code for code in codes if code not in found]
        if missing:
            raise inputs.Unprocessable(f"{field}: no component {', '.join(missing)} on this page.")
        return found


# What Statuspage posts when a status changes with no message (automation often sends the status alone).
DEFAULT_BODIES = {
    IncidentStatus.INVESTIGATING: "We are currently investigating this issue.",
    IncidentStatus.IDENTIFIED: "The issue has been identified and a fix is being implemented.",
    IncidentStatus.MONITORING: "A fix has been implemented and we are monitoring the results.",
    IncidentStatus.RESOLVED: "This incident has been resolved.",
    **MAINTENANCE_MESSAGES,
}


def _body(data: dict, status: str | None) -> str:
    """The update's body, or the default one for a status given without a message."""
    body = data.get("body", "")
    if not body.strip() and status in DEFAULT_BODIES:
        return DEFAULT_BODIES[status]
    return body


def _search(request, queryset):
    query = (request.query_params.get("q") or "").strip()
    if "\x00" in query:
        raise inputs.Unprocessable("q: must not contain NUL characters.")
    if query:
        matching = IncidentUpdate.objects.filter(body__icontains=query).values("incident_id")
        queryset = queryset.filter(Q(name__icontains=query) | Q(pk__in=matching))
    return queryset


def _incident_response(page, incident, status=200):
    """The incident in the v2 shape, plus its metrics (a management field)."""
    incident = selectors.load_incident(incident)
    updates = sorted(incident.timeline, key=lambda u: (u.display_at, u.id))
    metrics = incident_metrics(incident, updates, timezone.now()).as_dict()
    return Response({**render_incidents([incident], page)[0], "metrics": metrics}, status=status)


def _promise(data: dict) -> timedelta | None:
    minutes = data.get("next_update_in")
    return None if minutes is None else timedelta(minutes=minutes)


class IncidentListBase(ManageView):
    """The page's incidents, most recent activity first."""

    required_permissions = {"GET": ("incidents.view_incident",), "POST": ("incidents.add_incident",)}

    def filter(self, queryset):
        return queryset

    @extend_schema(
        tags=["manage: incidents"],
        parameters=[*LIST_PARAMETERS, OpenApiParameter("q", OpenApiTypes.STR, description="Search names and bodies")],
        responses=responses(200, serializers.Incident(many=True)),
    )
    def get(self, request, page_code):
        page = self.page(page_code)
        queryset = self.filter(Incident.objects.filter(page=page)).order_by("-last_update_at", "-id")
        queryset = self.paginate(_search(request, queryset))
        return Response(render_incidents(selectors.with_details(queryset), page))


class IncidentListView(IncidentListBase):
    """List the page's incidents or declare one."""

    @extend_schema(
        tags=["manage: incidents"],
        request={"application/json": inputs.IncidentBody},
        responses=responses(201, serializers.Incident, errors=(400, 401, 403, 404, 422, 429)),
    )
    def post(self, request, page_code):
        page = self.page(page_code)
        data = inputs.read_body(request, "incident", inputs.IncidentFields)
        statuses = data.get("components") or {}
        by_code = self.components_by_code(page, [*statuses, *data.get("component_ids", [])], "components")
        if data.get("scheduled_for") or data.get("scheduled_until"):
            maintenance = maintenance_create(
                page=page,
                name=data.get("name", ""),
                body=data.get("body", ""),
                scheduled_for=data.get("scheduled_for"),
                scheduled_until=data.get("scheduled_until"),
                components=[by_code[code] for code in [*statuses, *data.get("component_ids", [])]],
                auto_in_progress=data.get("scheduled_auto_in_progress", False),
                auto_completed=data.get("scheduled_auto_completed", False),
                remind_prior=data.get("scheduled_remind_prior", False),
                author=request.user,
                deliver_notifications=data.get("deliver_notifications", True),
                long_window=data.get("scheduled_long_window", False),
            )
            return _incident_response(page, maintenance, status=201)
        backfilled = data.get("backfilled", False)
        status = IncidentStatus.RESOLVED if backfilled else data.get("status", IncidentStatus.INVESTIGATING)
        incident = services.incident_create(
            page=page,
            name=data.get("name", ""),
            body=_body(data, status),
            status=status,
            components={by_code[code]: status for code, status in statuses.items()},
            affected=[by_code[code] for code in data.get("component_ids", [])],
            impact_override=data.get("impact_override") or None,
            author=request.user,
            display_at=data.get("backfill_date") if backfilled else None,
            deliver_notifications=data.get("deliver_notifications", True),
            next_update_in=_promise(data),
        )
        return _incident_response(page, incident, status=201)


class UnresolvedIncidentsView(IncidentListBase):
    """The incidents still investigating, identified or monitoring."""

    def filter(self, queryset):
        return queryset.filter(status__in=UNRESOLVED_STATUSES)


class ScheduledMaintenancesView(IncidentListBase):
    """Maintenances still to come (Statuspage's "scheduled" and "upcoming" lists)."""

    def filter(self, queryset):
        return queryset.filter(scheduled_for__isnull=False, status=MaintenanceStatus.SCHEDULED)


class ActiveMaintenancesView(IncidentListBase):
    """Maintenances in progress or being verified."""

    def filter(self, queryset):
        return queryset.filter(scheduled_for__isnull=False, status__in=ACTIVE_MAINTENANCE_STATUSES)


class IncidentView(ManageView):
    """A view of one incident (its page and code in the path)."""

    def incident(self, page_code, incident_code) -> tuple[Page, Incident]:
        page = self.page(page_code)
        incident = Incident.objects.filter(page=page, code=incident_code).first()
        if incident is None:
            raise Http404("No such incident on this page.")
        return page, incident


class IncidentDetailView(IncidentView):
    """One incident: read it, post an update to it, rename it or delete it."""

    required_permissions = {
        "GET": ("incidents.view_incident",),
        "PATCH": ("incidents.change_incident",),
        "DELETE": ("incidents.delete_incident",),
    }

    @extend_schema(tags=["manage: incidents"], responses=responses(200, serializers.Incident))
    def get(self, request, page_code, incident_code):
        page, incident = self.incident(page_code, incident_code)
        return _incident_response(page, incident)

    @extend_schema(
        tags=["manage: incidents"],
        request={"application/json": inputs.IncidentBody},
        responses=responses(200, serializers.Incident, errors=(400, 401, 403, 404, 422, 429)),
        description="A new `status` and/or `body` posts an update; `components` changes statuses in the same step.",
    )
    def patch(self, request, page_code, incident_code):
        page, incident = self.incident(page_code, incident_code)
        data = inputs.read_body(request, "incident", inputs.IncidentFields, partial=True)
        statuses = data.get("components") or {}
        by_code = self.components_by_code(page, [*statuses, *data.get("component_ids", [])], "components")
        with transaction.atomic():
            # Lock order of every writer: the incident, then components by primary key, then the page. An edit of
            # the name bumps the page's version (a page lock), so it comes after the update, which locks components.
            if {"status", "body", "components", "component_ids"} & data.keys():
                # A maintenance stage's presets are the service's rule; resolving changes only the components given
                # (Statuspage's behaviour: operational_on_resolve stays off).
                chosen = {by_code[code]: status for code, status in statuses.items()}
                services.incident_post_update(
                    incident=incident,
                    body=_body(data, data.get("status")),
                    status=data.get("status"),
                    components=chosen,
                    affected=[by_code[code] for code in data.get("component_ids", [])],
                    author=request.user,
                    deliver_notifications=data.get("deliver_notifications", True),
                    next_update_in=_promise(data),
                )
            if "name" in data or data.get("impact_override") is not None:
                services.incident_edit(
                    incident=incident, name=data.get("name"), impact_override=data.get("impact_override")
                )
        return _incident_response(page, incident)

    @extend_schema(tags=["manage: incidents"], responses=responses(200, serializers.Incident))
    def delete(self, request, page_code, incident_code):
        page, incident = self.incident(page_code, incident_code)
        gone = render(serializers.Incident, selectors.load_incident(incident), page)
        services.incident_delete(incident=incident)
        return Response(gone)


class IncidentUpdateView(ManageView):
    """Edit one update: body, display time (to backfill a timeline), notification flag."""

    required_permissions = {"PATCH": ("incidents.change_incidentupdate",)}

    @extend_schema(
        tags=["manage: incidents"],
        request={"application/json": inputs.IncidentUpdateBody},
        responses=responses(200, serializers.IncidentUpdate, errors=(400, 401, 403, 404, 422, 429)),
    )
    def patch(self, request, page_code, incident_code, update_code):
        page = self.page(page_code)
        update = (
            IncidentUpdate.objects.filter(incident__page=page, incident__code=incident_code, code=update_code)
            .select_related("incident")
            .first()
        )
        if update is None:
            raise Http404("No such incident update on this page.")
        data = inputs.read_body(request, "incident_update", inputs.IncidentUpdateFields, partial=True)
        update = services.incident_update_edit(
            update=update,
            body=data.get("body"),
            display_at=data.get("display_at"),
            deliver_notifications=data.get("deliver_notifications"),
        )
        return Response(render(serializers.IncidentUpdate, selectors.load_update(update), page))


class PageMetricsView(ManageView):
    """Ours: the page's mean time to resolve by component over the last 90 days (maintenances left out)."""

    required_permissions = {"GET": ("incidents.view_incident",)}

    @extend_schema(tags=["manage: incidents"], responses=responses(200, serializers.PageMetrics))
    def get(self, request, page_code):
        page = self.page(page_code)
        rows = mean_time_to_resolve_by_component(page, timezone.now())
        return Response(
            {
                "days": 90,
                "mean_time_to_resolve": [
                    {"component": name, "seconds": int(mean.total_seconds()), "incidents": count}
                    for name, mean, count in rows
                ],
            }
        )
