"""Manage API v1: email subscribers (page admins only). Webhook subscribers are not supported yet."""

from django.db import transaction
from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from api import docs, inputs, shapes
from api.manage import ManageView, responses
from incidents.models import Component, ComponentGroup
from notifications import services as notifications
from notifications.models import Subscriber

EVERYTHING = ("GET", "POST", "DELETE", "PATCH", "PUT")


def subscriber_object(subscriber: Subscriber, page) -> dict:
    """`components` lists the chosen components and groups (empty: every component of the page)."""
    chosen = [c.code for c in subscriber.components.all()] + [g.code for g in subscriber.groups.all()]
    return {
        "id": subscriber.code,
        "mode": "email",
        "email": subscriber.email,
        "endpoint": None,
        "components": [] if subscriber.all_components else chosen,
        "incident_id": subscriber.incident.code if subscriber.incident_id else None,
        "state": subscriber.state,
        "created_at": shapes.timestamp(subscriber.created_at, page),
        "confirmed_at": shapes.timestamp(subscriber.confirmed_at, page),
        "quarantined_at": shapes.timestamp(subscriber.quarantined_at, page),
    }


def _loaded(queryset):
    return queryset.select_related("incident").prefetch_related("components", "groups")


class SubscriberListView(ManageView):
    """List the page's subscribers or add one."""

    admin_methods = EVERYTHING

    @extend_schema(tags=["manage: subscribers"], responses=responses(200, docs.Subscriber(many=True)))
    def get(self, request, page_code):
        page = self.page(page_code)
        subscribers = _loaded(Subscriber.objects.filter(page=page).order_by("id"))
        return Response([subscriber_object(s, page) for s in self.paginate(subscribers)])

    @extend_schema(
        tags=["manage: subscribers"],
        request={"application/json": inputs.SubscriberBody},
        responses=responses(201, docs.Subscriber, errors=(400, 401, 403, 404, 422, 429)),
        description="`skip_confirmation_notification: true` makes it active at once (an operator importing a "
        "known list); otherwise it gets a confirmation email and stays pending until confirmed.",
    )
    def post(self, request, page_code):
        page = self.page(page_code)
        data = inputs.read_body(request, "subscriber", inputs.SubscriberFields)
        if data.get("endpoint"):
            raise inputs.Unprocessable("endpoint: webhook subscribers are not supported yet; use email.")
        if not data.get("email"):
            raise inputs.Unprocessable("email: an email address is required.")
        codes = data.get("component_ids", [])
        components = list(Component.objects.filter(page=page, code__in=codes))
        groups = list(ComponentGroup.objects.filter(page=page, code__in=codes))
        found = {c.code for c in components} | {g.code for g in groups}
        missing = [code for code in codes if code not in found]
        if missing:
            raise inputs.Unprocessable(f"component_ids: no component {', '.join(missing)} on this page.")
        with transaction.atomic():
            subscriber = notifications.subscribe(
                page=page,
                email=data["email"],
                components=components,
                groups=groups,
                confirmed=data.get("skip_confirmation_notification", False),
            )
        subscriber = _loaded(Subscriber.objects.filter(pk=subscriber.pk)).get()
        return Response(subscriber_object(subscriber, page), status=201)


class SubscriberDetailView(ManageView):
    """One subscriber: read it or remove it (nothing more is ever sent to it)."""

    admin_methods = EVERYTHING

    def subscriber(self, page_code, code):
        page = self.page(page_code)
        subscriber = _loaded(Subscriber.objects.filter(page=page, code=code)).first()
        if subscriber is None:
            raise Http404("No such subscriber on this page.")
        return page, subscriber

    @extend_schema(tags=["manage: subscribers"], responses=responses(200, docs.Subscriber))
    def get(self, request, page_code, subscriber_code):
        page, subscriber = self.subscriber(page_code, subscriber_code)
        return Response(subscriber_object(subscriber, page))

    @extend_schema(tags=["manage: subscribers"], responses=responses(200, docs.Subscriber))
    def delete(self, request, page_code, subscriber_code):
        page, subscriber = self.subscriber(page_code, subscriber_code)
        gone = subscriber_object(subscriber, page)
        notifications.subscriber_unsubscribe(subscriber)
        return Response(gone)
