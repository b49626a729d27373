"""Manage API v1: components, component groups and incident templates."""

from django.db import transaction
from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from api import docs, inputs, shapes
from api.manage import ManageView, responses
from incidents import page_services, services
from incidents.models import Component, ComponentGroup, IncidentTemplate

ADMIN_WRITES = ("POST", "DELETE")
BODY_ERRORS = (400, 401, 403, 404, 422, 429)


class ComponentBase(ManageView):
    def group(self, page, code):
        if not code:
            return None
        group = ComponentGroup.objects.filter(page=page, code=code).first()
        if group is None:
            raise inputs.Unprocessable(f"group_id: no component group {code} on this page.")
        return group

    def component(self, page, code) -> Component:
        component = Component.objects.filter(page=page, code=code).select_related("group").first()
        if component is None:
            raise Http404("No such component on this page.")
        return component


class ComponentListView(ComponentBase):
    """List the page's components or create one (page admins)."""

    admin_methods = ADMIN_WRITES

    @extend_schema(tags=["manage: components"], responses=responses(200, docs.Component(many=True)))
    def get(self, request, page_code):
        page = self.page(page_code)
        components = Component.objects.filter(page=page).select_related("group").order_by("position", "id")
        return Response([shapes.component_object(c, page) for c in self.paginate(components)])

    @extend_schema(
        tags=["manage: components"],
        request={"application/json": inputs.ComponentBody},
        responses=responses(201, docs.Component, errors=BODY_ERRORS),
    )
    def post(self, request, page_code):
        page = self.page(page_code)
        data = inputs.read_body(request, "component", inputs.ComponentFields)
        component = services.component_create(
            page=page,
            name=data.get("name", ""),
            group=self.group(page, data.get("group_id")),
            description=data.get("description") or "",
            status=data.get("status", "operational"),
            showcase=data.get("showcase", True),
            only_show_if_degraded=data.get("only_show_if_degraded", False),
            start_date=data.get("start_date"),
        )
        return Response(shapes.component_object(self.component(page, component.code), page), status=201)


class ComponentDetailView(ComponentBase):
    """One component."""

    admin_methods = ADMIN_WRITES

    @extend_schema(tags=["manage: components"], responses=responses(200, docs.Component))
    def get(self, request, page_code, component_code):
        page = self.page(page_code)
        return Response(shapes.component_object(self.component(page, component_code), page))

    @extend_schema(
        tags=["manage: components"],
        request={"application/json": inputs.ComponentBody},
        responses=responses(200, docs.Component, errors=BODY_ERRORS),
        description="Responders may change the status only; the other fields need a page admin.",
    )
    def patch(self, request, page_code, component_code):
        page = self.page(page_code)
        component = self.component(page, component_code)
        data = inputs.read_body(request, "component", inputs.ComponentFields, partial=True)
        attributes = {k: v for k, v in data.items() if k != "status"}
        if attributes:
            self.require_page_admin()
        with transaction.atomic():
            if attributes:
                changes = {k: attributes[k] for k in ("name", "showcase", "only_show_if_degraded") if k in attributes}
                if "description" in attributes:
                    changes["description"] = attributes["description"] or ""
                if "group_id" in attributes:
                    changes["group"] = self.group(page, attributes["group_id"])
                if "start_date" in attributes:
                    changes["start_date"] = attributes["start_date"]
                page_services.component_update(component=component, **changes)
            if "status" in data:
                services.component_set_status(component=component, status=data["status"], author=request.user)
        return Response(shapes.component_object(self.component(page, component_code), page))

    @extend_schema(
        tags=["manage: components"],
        request={"application/json": inputs.ComponentBody},
        responses=responses(200, docs.Component, errors=BODY_ERRORS),
        description="The same as PATCH.",
    )
    def put(self, request, page_code, component_code):
        return self.patch(request, page_code, component_code)

    @extend_schema(tags=["manage: components"], responses=responses(204, None))
    def delete(self, request, page_code, component_code):
        page = self.page(page_code)
        page_services.component_delete(component=self.component(page, component_code))
        return Response(status=204)


class GroupBase(ManageView):
    admin_methods = ("POST", "PATCH", "PUT", "DELETE")

    def group_object(self, page, code) -> ComponentGroup:
        group = ComponentGroup.objects.filter(page=page, code=code).first()
        if group is None:
            raise Http404("No such component group on this page.")
        return group

    def members(self, page, data):
        if "components" not in data:
            return None
        found = self.components_by_code(page, data["components"], "components")
        return [found[code] for code in data["components"]]


class GroupListView(GroupBase):
    """List the page's component groups or create one (page admins)."""

    @extend_schema(tags=["manage: component groups"], responses=responses(200, docs.Component(many=True)))
    def get(self, request, page_code):
        page = self.page(page_code)
        components, _ = shapes.load_components(page)
        return Response([c for c in components if c["group"]])

    @extend_schema(
        tags=["manage: component groups"],
        request={"application/json": inputs.ComponentGroupBody},
        responses=responses(201, docs.Component, errors=BODY_ERRORS),
    )
    def post(self, request, page_code):
        page = self.page(page_code)
        data = inputs.read_body(request, "component_group", inputs.ComponentGroupFields)
        members = self.members(page, data)
        with transaction.atomic():
            group = services.component_group_create(
                page=page, name=data.get("name", ""), description=data.get("description") or ""
            )
            if members:
                page_services.component_group_update(group=group, components=members)
        return Response(shapes.load_group(page, group), status=201)


class GroupDetailView(GroupBase):
    """One component group (changes need a page admin)."""

    @extend_schema(tags=["manage: component groups"], responses=responses(200, docs.Component))
    def get(self, request, page_code, group_code):
        page = self.page(page_code)
        return Response(shapes.load_group(page, self.group_object(page, group_code)))

    @extend_schema(
        tags=["manage: component groups"],
        request={"application/json": inputs.ComponentGroupBody},
        responses=responses(200, docs.Component, errors=BODY_ERRORS),
    )
    def patch(self, request, page_code, group_code):
        page = self.page(page_code)
        group = self.group_object(page, group_code)
        data = inputs.read_body(request, "component_group", inputs.ComponentGroupFields, partial=True)
        description = data.get("description")
        group = page_services.component_group_update(
            group=group,
            name=data.get("name"),
            description="" if "description" in data and description is None else description,
            components=self.members(page, data),
        )
        return Response(shapes.load_group(page, group))

    @extend_schema(tags=["manage: component groups"], responses=responses(200, docs.Component))
    def delete(self, request, page_code, group_code):
        page = self.page(page_code)
        group = self.group_object(page, group_code)
        gone = shapes.load_group(page, group)
        page_services.component_group_delete(group=group)
        return Response(gone)


def template_object(template: IncidentTemplate, page) -> dict:
    """Statuspage's template, plus ours: `component_statuses`, the status it sets per component id."""
    links = sorted(template.component_links.all(), key=lambda link: (link.component.position, link.component.id))
    return {
        "id": template.code,
        "name": template.name,
        "title": template.title,
        "body": template.body,
        "group_id": None,
        "update_status": template.update_status,
        "should_tweet": False,
        "should_send_notifications": template.should_send_notifications,
        "components": [shapes.component_object(link.component, page) for link in links],
        "component_statuses": {link.component.code: link.status for link in links if link.status},
    }


class TemplateListView(ManageView):
    """List the page's incident templates or create one (page admins)."""

    admin_methods = ("POST",)

    @extend_schema(tags=["manage: incident templates"], responses=responses(200, docs.IncidentTemplate(many=True)))
    def get(self, request, page_code):
        page = self.page(page_code)
        templates = IncidentTemplate.objects.filter(page=page).order_by("name", "id")
        templates = self.paginate(templates).prefetch_related("component_links__component__group")
        return Response([template_object(t, page) for t in templates])

    @extend_schema(
        tags=["manage: incident templates"],
        request={"application/json": inputs.IncidentTemplateBody},
        responses=responses(201, docs.IncidentTemplate, errors=BODY_ERRORS),
    )
    def post(self, request, page_code):
        page = self.page(page_code)
        data = inputs.read_body(request, "incident_template", inputs.IncidentTemplateFields)
        statuses = {**dict.fromkeys(data.get("component_ids", []), ""), **data.get("components", {})}
        found = self.components_by_code(page, statuses, "components")
        template = page_services.incident_template_create(
            page=page,
            name=data.get("name", ""),
            title=data.get("title", ""),
            body=data.get("body", ""),
            update_status=data.get("update_status", "investigating"),
            should_send_notifications=data.get("should_send_notifications", True),
            components={found[code]: status for code, status in statuses.items()},
        )
        return Response(template_object(template, page), status=201)
