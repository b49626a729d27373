"""Manage API v1: subscribers (page admins only): email, webhook (`endpoint`), and Slack, Teams and Discord
(`endpoint` with `type`)."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from api import inputs, serializers
from api.manage import ManageView, responses
from api.serializers import render
from incidents.models import Component, ComponentGroup
from notifications import services as notifications
from notifications.endpoint_subscribers import subscribe_endpoint
from notifications.models import Subscriber

PERMISSIONS = {
    "GET": ("notifications.view_subscriber",),
    "POST": ("notifications.add_subscriber",),
    "DELETE": ("notifications.delete_subscriber",),
}


def _loaded(queryset):
    return queryset.select_related("incident").prefetch_related("components", "groups")


class SubscriberListView(ManageView):
    """List the page's subscribers or add one."""

    required_permissions = PERMISSIONS

    @extend_schema(tags=["manage: subscribers"], responses=responses(200, serializers.Subscriber(many=True)))
    def get(self, request, page_code):
        page = self.page(page_code)
        subscribers = _loaded(Subscriber.objects.filter(page=page).order_by("id"))
        return Response(render(serializers.Subscriber, self.paginate(subscribers), page, many=True))

    @extend_schema(
        tags=["manage: subscribers"],
        request={"application/json": inputs.SubscriberBody},
        responses=responses(201, serializers.Subscriber, errors=(400, 401, 403, 404, 422, 429)),
        description="`skip_confirmation_notification: true` makes it active at once (an operator importing a "
        "known list); otherwise it gets a confirmation email and stays pending until confirmed.",
    )
    def post(self, request, page_code):
        page = self.page(page_code)
        data = inputs.read_body(request, "subscriber", inputs.SubscriberFields)
        if not data.get("email") and not data.get("endpoint"):
            raise inputs.Unprocessable("email: an email address (or a webhook's endpoint) is required.")
        codes = data.get("component_ids", [])
        components = list(Component.objects.filter(page=page, code__in=codes))
        groups = list(ComponentGroup.objects.filter(page=page, code__in=codes))
        found = {c.code for c in components} | {g.code for g in groups}
        missing = [code for code in codes if code not in found]
        if missing:
            raise inputs.Unprocessable(f"component_ids: no component {', '.join(missing)} on this page.")
        if data.get("endpoint"):
            return self.create_endpoint(page, data, components, groups)
        with transaction.atomic():
            subscriber = notifications.subscribe(
                page=page,
                email=data["email"],
                components=components,
                groups=groups,
                confirmed=data.get("skip_confirmation_notification", False),
            )
        subscriber = _loaded(Subscriber.objects.filter(pk=subscriber.pk)).get()
        return Response(render(serializers.Subscriber, subscriber, page), status=201)

    def create_endpoint(self, page, data, components, groups):
        """A webhook (or chat) subscriber; a new webhook's `signing_secret` is in this answer and never again."""
        try:
            subscriber, secret = subscribe_endpoint(
                page=page,
                channel=data.get("type") or "webhook",
                endpoint=data["endpoint"],
                email=data.get("email", ""),
                components=components,
                groups=groups,
                confirmed=data.get("skip_confirmation_notification", False),
            )
        except ValidationError as exc:
            raise inputs.Unprocessable(" ".join(exc.messages)) from exc
        subscriber = _loaded(Subscriber.objects.filter(pk=subscriber.pk)).get()
        answer = render(serializers.Subscriber, subscriber, page)
        if secret:
            answer["signing_secret"] = secret
        return Response(answer, status=201)


class SubscriberDetailView(ManageView):
    """One subscriber: read it or remove it (nothing more is ever sent to it)."""

    required_permissions = PERMISSIONS

    def subscriber(self, page_code, code):
        page = self.page(page_code)
        subscriber = _loaded(Subscriber.objects.filter(page=page, code=code)).first()
        if subscriber is None:
            raise Http404("No such subscriber on this page.")
        return page, subscriber

    @extend_schema(tags=["manage: subscribers"], responses=responses(200, serializers.Subscriber))
    def get(self, request, page_code, subscriber_code):
        page, subscriber = self.subscriber(page_code, subscriber_code)
        return Response(render(serializers.Subscriber, subscriber, page))

    @extend_schema(tags=["manage: subscribers"], responses=responses(200, serializers.Subscriber))
    def delete(self, request, page_code, subscriber_code):
        page, subscriber = self.subscriber(page_code, subscriber_code)
        gone = render(serializers.Subscriber, subscriber, page)
        notifications.subscriber_unsubscribe(subscriber)
        return Response(gone)
