"""Manage API v1: an incident's postmortem (the draft, publishing it with or without notifying, reverting it)."""

from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from api import inputs, serializers
from api.manage import IncidentView, responses
from api.serializers import render
from incidents import services
from incidents.models import Incident, IncidentUpdate

# PUT is Statuspage's method; atlassian-python-api POSTs: both are taken.
PERMISSIONS = {
    "GET": ("incidents.view_incident",),
    "PATCH": ("incidents.change_incident",),
    "POST": ("incidents.change_incident",),
}
BODY_ERRORS = (400, 401, 403, 404, 422, 429)


@dataclass
class PostmortemState:
    body: str | None
    body_updated_at: datetime | None
    body_draft: str
    published_at: datetime | None
    notify_subscribers: bool
    created_at: datetime | None
    updated_at: datetime | None


def postmortem_state(incident: Incident) -> PostmortemState:
    published: IncidentUpdate | None = services.published_postmortem(incident)
    return PostmortemState(
        body=published.body if published else None,
        body_updated_at=published.updated_at if published else None,
        body_draft=incident.postmortem,
        published_at=published.display_at if published else None,
        notify_subscribers=published.deliver_notifications if published else incident.postmortem_notify,
        created_at=published.created_at if published else None,
        updated_at=published.updated_at if published else None,
    )


class PostmortemBase(IncidentView):
    required_permissions = PERMISSIONS

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "patch" in cls.__dict__:
            cls.post = cls.patch

    def answer(self, page, incident):
        incident.refresh_from_db()
        return Response(render(serializers.Postmortem, postmortem_state(incident), page))


class PostmortemView(PostmortemBase):
    """GET the postmortem; PUT `{"postmortem": {"body_draft": …}}` saves the draft (not public until published);
    DELETE empties the draft."""

    @extend_schema(tags=["manage: incidents"], responses=responses(200, serializers.Postmortem))
    def get(self, request, page_code, incident_code):
        return self.answer(*self.incident(page_code, incident_code))

    @extend_schema(
        tags=["manage: incidents"],
        request={"application/json": inputs.PostmortemBody},
        responses=responses(200, serializers.Postmortem, errors=BODY_ERRORS),
    )
    def patch(self, request, page_code, incident_code):
        page, incident = self.incident(page_code, incident_code)
        data = inputs.read_body(request, "postmortem", inputs.PostmortemFields, partial=True)
        services.incident_postmortem_save(
            incident=incident, body=data.get("body_draft") or "", notify=data.get("notify_subscribers")
        )
        return self.answer(page, incident)

    @extend_schema(tags=["manage: incidents"], responses=responses(200, serializers.Postmortem))
    def delete(self, request, page_code, incident_code):
        page, incident = self.incident(page_code, incident_code)
        services.incident_postmortem_save(incident=incident, body="")
        return self.answer(page, incident)


class PostmortemPublishView(PostmortemBase):
    """PUT publishes the draft as the incident's postmortem; `notify_subscribers` emails them."""

    @extend_schema(
        tags=["manage: incidents"],
        request={"application/json": inputs.PostmortemBody},
        responses=responses(200, serializers.Postmortem, errors=BODY_ERRORS),
    )
    def patch(self, request, page_code, incident_code):
        page, incident = self.incident(page_code, incident_code)
        data = inputs.read_body(request, "postmortem", inputs.PostmortemFields, partial=True) if request.data else {}
        body = data.get("body_draft") or incident.postmortem
        if not body.strip():
            raise inputs.Unprocessable("postmortem: there is no draft to publish; PUT its body_draft first.")
        services.incident_postmortem_publish(
            incident=incident,
            body=body,
            author=request.user,
            deliver_notifications=data.get("notify_subscribers", incident.postmortem_notify),
        )
        return self.answer(page, incident)


class PostmortemRevertView(PostmortemBase):
    """PUT takes the published postmortem off the page; its text stays as the draft."""

    @extend_schema(tags=["manage: incidents"], request=None, responses=responses(200, serializers.Postmortem))
    def patch(self, request, page_code, incident_code):
        page, incident = self.incident(page_code, incident_code)
        with transaction.atomic():
            published = services.published_postmortem(incident)
            if published is None:
                raise inputs.Unprocessable("postmortem: it is not published.")
            services.incident_postmortem_save(incident=incident, body=published.body)
            services.incident_update_delete(update=published)
        return self.answer(page, incident)
