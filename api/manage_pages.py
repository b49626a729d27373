"""Manage API v1: the pages themselves (list, profile, settings) and a component's uptime over a range of days."""

from datetime import date, datetime, timedelta

from django.db import transaction
from django.http import Http404
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response

from api import inputs, serializers
from api.manage import ManageView, responses
from api.serializers import render
from incidents import access_services, page_services
from incidents.models import AudienceGroup, Component, Page, Viewer
from incidents.uptime import component_uptimes

PAGE_PERMISSIONS = {"GET": ("incidents.view_page",), "PATCH": ("incidents.change_page",)}
# Statuspage's names for the page settings we have.
PAGE_SETTINGS = {"name": "name", "time_zone": "time_zone", "url": "url", "support_url": "support_url"}
PAGE_SETTINGS["css_link_color"] = "accent_colour"
PAGE_SETTINGS["default_language"] = "default_language"
ACCESS_SETTINGS = ("visibility", "password", "allowed_domains")
VIEWER_PERMISSIONS = {
    "GET": ("incidents.view_viewer",),
    "POST": ("incidents.add_viewer",),
    "PATCH": ("incidents.change_viewer",),
    "DELETE": ("incidents.delete_viewer",),
}


def _profile(page: Page) -> dict:
    return render(serializers.PageProfile, page, page)


class PageListView(ManageView):
    """The pages the key reaches (Statuspage lists the pages the key's user may manage)."""

    required_permissions = PAGE_PERMISSIONS

    @extend_schema(tags=["manage: pages"], responses=responses(200, serializers.PageProfile(many=True)))
    def get(self, request):
        return Response([_profile(page) for page in self.paginate(self.reachable_pages().order_by("id"))])


class PageDetailView(ManageView):
    """One page's profile; PATCH (or PUT) changes its name, time zone, website, support URL and link colour."""

    required_permissions = PAGE_PERMISSIONS

    @extend_schema(tags=["manage: pages"], responses=responses(200, serializers.PageProfile))
    def get(self, request, page_code):
        return Response(_profile(self.page(page_code)))

    @extend_schema(
        tags=["manage: pages"],
        request={"application/json": inputs.PageBody},
        responses=responses(200, serializers.PageProfile, errors=(400, 401, 403, 404, 422, 429)),
    )
    def patch(self, request, page_code):
        page = self.page(page_code)
        data = inputs.read_body(request, "page", inputs.PageFields, partial=True)
        access = {key: data.pop(key) for key in ACCESS_SETTINGS if key in data}
        with transaction.atomic():  # all or nothing: a bad visibility leaves the name unchanged too
            if data:
                page = page_services.page_update(
                    page=page, **{PAGE_SETTINGS[key]: value for key, value in data.items()}
                )
            if access:
                if "allowed_domains" in access:
                    access["allowed_domains"] = "\n".join(access["allowed_domains"])
                access.setdefault("visibility", page.visibility)
                page = access_services.page_set_access(page=page, **access)
        return Response(_profile(page))


class PageAccessUserListView(ManageView):
    """The named viewers of a non-public page (Statuspage's page access users); POST adds one."""

    required_permissions = VIEWER_PERMISSIONS

    @extend_schema(tags=["manage: pages"], responses=responses(200, serializers.PageAccessUser(many=True)))
    def get(self, request, page_code):
        page = self.page(page_code)
        viewers = self.paginate(Viewer.objects.filter(page=page).select_related("page").order_by("email"))
        return Response(render(serializers.PageAccessUser, viewers, page, many=True))

    @extend_schema(
        tags=["manage: pages"],
        request={"application/json": inputs.PageAccessUserBody},
        responses=responses(201, serializers.PageAccessUser, errors=(400, 401, 403, 404, 422, 429)),
    )
    def post(self, request, page_code):
        page = self.page(page_code)
        data = inputs.read_body(request, "page_access_user", inputs.PageAccessUserFields)
        if not data.get("email"):
            raise inputs.Unprocessable("email: an address is needed.")
        if Viewer.objects.filter(page=page, email=data["email"].strip().lower()).exists():
            raise inputs.Unprocessable("email: this address is already a viewer of the page.")
        viewer = access_services.viewer_add(page=page, email=data["email"], group=_group(page, data))
        return Response(render(serializers.PageAccessUser, viewer, page), status=201)


class PageAccessUserDetailView(ManageView):
    """One named viewer: read, change the address or group, remove (their sign-in stops at once)."""

    required_permissions = VIEWER_PERMISSIONS

    def viewer(self, page_code, viewer_id) -> Viewer:
        viewer = Viewer.objects.filter(page=self.page(page_code), pk=viewer_id).select_related("page").first()
        if viewer is None:
            raise Http404("No such page access user.")
        return viewer

    @extend_schema(tags=["manage: pages"], responses=responses(200, serializers.PageAccessUser))
    def get(self, request, page_code, viewer_id):
        viewer = self.viewer(page_code, viewer_id)
        return Response(render(serializers.PageAccessUser, viewer, viewer.page))

    @extend_schema(
        tags=["manage: pages"],
        request={"application/json": inputs.PageAccessUserBody},
        responses=responses(200, serializers.PageAccessUser, errors=(400, 401, 403, 404, 422, 429)),
    )
    def patch(self, request, page_code, viewer_id):
        viewer = self.viewer(page_code, viewer_id)
        data = inputs.read_body(request, "page_access_user", inputs.PageAccessUserFields, partial=True)
        group = _group(viewer.page, data) if "page_access_group_id" in data else False
        viewer = access_services.viewer_update(viewer=viewer, email=data.get("email"), group=group)
        return Response(render(serializers.PageAccessUser, viewer, viewer.page))

    @extend_schema(tags=["manage: pages"], responses=responses(204, None))
    def delete(self, request, page_code, viewer_id):
        access_services.viewer_remove(viewer=self.viewer(page_code, viewer_id))
        return Response(status=204)


def _group(page: Page, data: dict) -> AudienceGroup | None:
    """The audience group named by `page_access_group_id` (of this page), or None."""
    group_id = data.get("page_access_group_id")
    if not group_id:
        return None
    group = AudienceGroup.objects.filter(page=page, pk=group_id).first() if str(group_id).isdigit() else None
    if group is None:
        raise inputs.Unprocessable(f"page_access_group_id: no group {group_id!r} on this page.")
    return group


MAX_UPTIME_DAYS = 366


def _day(request, name: str, default: date) -> date:
    raw = request.query_params.get(name)
    if not raw:
        return default
    try:
        return date.fromisoformat(raw[:10])
    except ValueError:
        raise inputs.Unprocessable(f"{name}: use a date such as 2024-01-31.") from None


class ComponentUptimeView(ManageView):
    """A component's uptime between two days (`start`, `end`, in the page's time zone; default: the last 90)."""

    required_permissions = {"GET": ("incidents.view_component",)}

    @extend_schema(
        tags=["manage: components"],
        parameters=[
            OpenApiParameter("start", OpenApiTypes.DATE, description="First day (default: 89 days before end)"),
            OpenApiParameter("end", OpenApiTypes.DATE, description="Last day (default: today)"),
        ],
        responses=responses(200, serializers.ComponentUptime),
    )
    def get(self, request, page_code, component_code):
        page = self.page(page_code)
        component = (
            Component.objects.filter(page=page, code=component_code)
            .select_related("page", "status_change__incident")
            .first()
        )
        if component is None:
            raise Http404("No such component on this page.")
        now = timezone.now()
        today = now.astimezone(page.tz).date()
        warnings = []
        end = _day(request, "end", today)
        start = _day(request, "start", end - timedelta(days=89))
        if end > today:
            warnings.append(f"end: {end} is in the future; the range ends today ({today}).")
            end = today
        if start > end:
            raise inputs.Unprocessable("start: must not be after end.")
        if (end - start).days + 1 > MAX_UPTIME_DAYS:
            raise inputs.Unprocessable(f"start: the range is at most {MAX_UPTIME_DAYS} days.")
        if component.start_date and start < component.start_date:
            warnings.append(f"start: the component has data from {component.start_date} only.")
        # The window's last moment: now, or the end day's last microsecond (the uptime ends on the day of `at`).
        at = now if end == today else datetime.combine(end + timedelta(days=1), datetime.min.time(), page.tz)
        at = at if end == today else at - timedelta(microseconds=1)
        (uptime,) = component_uptimes([component], page.tz, at, days=(end - start).days + 1)
        days = [day for day in uptime.days if day.has_data]
        events = dict.fromkeys(code for day in days for code in day.incidents)
        return Response(
            {
                "range_start": start.isoformat(),
                "range_end": end.isoformat(),
                "uptime_percentage": None if uptime.uptime is None else round(uptime.uptime * 100, 4),
                "major_outage": round(sum(day.major for day in days)),
                "partial_outage": round(sum(day.partial for day in days)),
                "warnings": warnings,
                "id": component.code,
                "name": component.name,
                "related_events": [{"id": code} for code in events],
            }
        )
