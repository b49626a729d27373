"""Manage API v1: components, component groups and incident templates."""

from django.db import transaction
from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from api import inputs, serializers
from api.manage import ManageView, responses
from api.serializers import render
from incidents import page_services, selectors, services
from incidents.models import Component, ComponentGroup, IncidentTemplate
from incidents.permissions import COMPONENT_DETAILS

COMPONENT_PERMISSIONS = {
    "GET": ("incidents.view_component",),
    "POST": ("incidents.add_component",),
    "PATCH": ("incidents.change_component",),
    "DELETE": ("incidents.delete_component",),
}
GROUP_PERMISSIONS = {
    "GET": ("incidents.view_componentgroup",),
    "POST": ("incidents.add_componentgroup",),
    "PATCH": ("incidents.change_componentgroup",),
    "DELETE": ("incidents.delete_componentgroup",),
}
BODY_ERRORS = (400, 401, 403, 404, 422, 429)


class ComponentBase(ManageView):
    required_permissions = COMPONENT_PERMISSIONS

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

    @extend_schema(tags=["manage: components"], responses=responses(200, serializers.Component(many=True)))
    def get(self, request, page_code):
        page = self.page(page_code)
        components = selectors.components_in_page_order(Component.objects.filter(page=page).select_related("group"))
        return Response(render(serializers.Component, self.paginate(components), page, many=True))

    @extend_schema(
        tags=["manage: components"],
        request={"application/json": inputs.ComponentBody},
        responses=responses(201, serializers.Component, errors=BODY_ERRORS),
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
        return Response(render(serializers.Component, self.component(page, component.code), page), status=201)


class ComponentDetailView(ComponentBase):
    """One component."""

    @extend_schema(tags=["manage: components"], responses=responses(200, serializers.Component))
    def get(self, request, page_code, component_code):
        page = self.page(page_code)
        return Response(render(serializers.Component, self.component(page, component_code), page))

    @extend_schema(
        tags=["manage: components"],
        request={"application/json": inputs.ComponentBody},
        responses=responses(200, serializers.Component, errors=BODY_ERRORS),
        description="Responders may change the status only; the other fields need a page admin.",
    )
    def patch(self, request, page_code, component_code):
        page = self.page(page_code)
        component = self.component(page, component_code)
        data = inputs.read_body(request, "component", inputs.ComponentFields, partial=True)
        attributes = {k: v for k, v in data.items() if k != "status"}
        if attributes:
            self.require(COMPONENT_DETAILS)  # beyond the status: as the admin's component form
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
        return Response(render(serializers.Component, self.component(page, component_code), page))

    @extend_schema(tags=["manage: components"], responses=responses(204, None))
    def delete(self, request, page_code, component_code):
        page = self.page(page_code)
        page_services.component_delete(component=self.component(page, component_code))
        return Response(status=204)


class GroupBase(ManageView):
    required_permissions = GROUP_PERMISSIONS

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

    @extend_schema(tags=["manage: component groups"], responses=responses(200, serializers.Component(many=True)))
    def get(self, request, page_code):
        page = self.page(page_code)
        rows, _ = selectors.load_components(page)
        groups = [row for row in rows if isinstance(row, selectors.GroupAsComponent)]
        return Response(render(serializers.Component, groups, page, many=True))

    @extend_schema(
        tags=["manage: component groups"],
        request={"application/json": inputs.ComponentGroupBody},
        responses=responses(201, serializers.Component, errors=BODY_ERRORS),
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
        return Response(render(serializers.Component, selectors.load_group(group), page), status=201)


class GroupDetailView(GroupBase):
    """One component group (changes need a page admin)."""

    @extend_schema(tags=["manage: component groups"], responses=responses(200, serializers.Component))
    def get(self, request, page_code, group_code):
        page = self.page(page_code)
        return Response(render(serializers.Component, selectors.load_group(self.group_object(page, group_code)), page))

    @extend_schema(
        tags=["manage: component groups"],
        request={"application/json": inputs.ComponentGroupBody},
        responses=responses(200, serializers.Component, errors=BODY_ERRORS),
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
        return Response(render(serializers.Component, selectors.load_group(group), page))

    @extend_schema(tags=["manage: component groups"], responses=responses(200, serializers.Component))
    def delete(self, request, page_code, group_code):
        page = self.page(page_code)
        group = self.group_object(page, group_code)
        gone = render(serializers.Component, selectors.load_group(group), page)
        page_services.component_group_delete(group=group)
        return Response(gone)


TEMPLATE_PERMISSIONS = {
    "GET": ("incidents.view_incidenttemplate",),
    "POST": ("incidents.add_incidenttemplate",),
    "PATCH": ("incidents.change_incidenttemplate",),
    "DELETE": ("incidents.delete_incidenttemplate",),
}


class TemplateBase(ManageView):
    required_permissions = TEMPLATE_PERMISSIONS

    def statuses(self, page, data) -> dict | None:
        """{component: the status the template sets, "" for affected only}, from component_ids and components."""
        if "component_ids" not in data and "components" not in data:
            return None
        statuses = {**dict.fromkeys(data.get("component_ids", []), ""), **data.get("components", {})}
        found = self.components_by_code(page, statuses, "components")
        return {found[code]: status for code, status in statuses.items()}

    def answer(self, page, template, status=200):
        template = selectors.load_templates(IncidentTemplate.objects.filter(pk=template.pk))[0]
        return Response(render(serializers.IncidentTemplate, template, page), status=status)


class TemplateListView(TemplateBase):
    """List the page's incident templates or create one (page admins)."""

    @extend_schema(
        tags=["manage: incident templates"], responses=responses(200, serializers.IncidentTemplate(many=True))
    )
    def get(self, request, page_code):
        page = self.page(page_code)
        templates = IncidentTemplate.objects.filter(page=page).order_by("name", "id")
        templates = selectors.load_templates(self.paginate(templates))
        return Response(render(serializers.IncidentTemplate, templates, page, many=True))

    @extend_schema(
        tags=["manage: incident templates"],
        request={"application/json": inputs.IncidentTemplateBody},
        responses=responses(201, serializers.IncidentTemplate, errors=BODY_ERRORS),
    )
    def post(self, request, page_code):
        page = self.page(page_code)
        data = inputs.read_body(request, "incident_template", inputs.IncidentTemplateFields)
        template = page_services.incident_template_create(
            page=page,
            name=data.get("name", ""),
            title=data.get("title", ""),
            body=data.get("body", ""),
            update_status=data.get("update_status", "investigating"),
            should_send_notifications=data.get("should_send_notifications", True),
            components=self.statuses(page, data),
        )
        return self.answer(page, template, status=201)


TEMPLATE_FIELDS = ("name", "title", "body", "update_status", "should_send_notifications")


class TemplateDetailView(TemplateBase):
    """One incident template: read, change or delete it (page admins)."""

    def template(self, page, code) -> IncidentTemplate:
        template = IncidentTemplate.objects.filter(page=page, code=code).first()
        if template is None:
            raise Http404("No such incident template on this page.")
        return template

    @extend_schema(tags=["manage: incident templates"], responses=responses(200, serializers.IncidentTemplate))
    def get(self, request, page_code, template_code):
        page = self.page(page_code)
        return self.answer(page, self.template(page, template_code))

    @extend_schema(
        tags=["manage: incident templates"],
        request={"application/json": inputs.IncidentTemplateBody},
        responses=responses(200, serializers.IncidentTemplate, errors=BODY_ERRORS),
    )
    def patch(self, request, page_code, template_code):
        page = self.page(page_code)
        template = self.template(page, template_code)
        data = inputs.read_body(request, "incident_template", inputs.IncidentTemplateFields, partial=True)
        template = page_services.incident_template_update(
            template=template,
            components=self.statuses(page, data),
            **{name: data[name] for name in TEMPLATE_FIELDS if name in data},
        )
        return self.answer(page, template)

    @extend_schema(tags=["manage: incident templates"], responses=responses(200, serializers.IncidentTemplate))
    def delete(self, request, page_code, template_code):
        page = self.page(page_code)
        template = self.template(page, template_code)
        gone = self.answer(page, template).data
        page_services.incident_template_delete(template=template)
        return Response(gone)
