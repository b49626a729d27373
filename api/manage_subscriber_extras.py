"""Manage API v1: subscribers beyond create/read/delete (api/manage_subscribers.py): the unsubscribed list,
reactivating quarantined ones, counts by type and by state, and changing the components of one."""

from django.db.models import Count
from drf_spectacular.utils import extend_schema
from rest_framework import serializers as drf
from rest_framework.response import Response

from api import inputs, serializers
from api.manage import ManageView, responses
from api.manage_subscribers import PERMISSIONS, SubscriberDetailView, _loaded
from api.serializers import render
from incidents.models import Component, ComponentGroup
from notifications import services as notifications
from notifications.models import Subscriber, SubscriberChannel, SubscriberState

# Statuspage's subscriber states, from ours.
STATES = {
    SubscriberState.CONFIRMED: "active",
    SubscriberState.PENDING: "unconfirmed",
    SubscriberState.QUARANTINED: "quarantined",
}
# Statuspage's subscriber types, and our channels of each (Teams and Discord count as integration partners).
TYPES = {
    "email": (SubscriberChannel.EMAIL,),
    "sms": (),
    "webhook": (SubscriberChannel.WEBHOOK,),
    "integration_partner": (SubscriberChannel.TEAMS, SubscriberChannel.DISCORD),
    "slack": (SubscriberChannel.SLACK,),
}
BODY_ERRORS = (400, 401, 403, 404, 422, 429)


def _types(*asked: str | None) -> list[str]:
    """The types a request names (`type`; none: every type); an unknown one is a clear 422."""
    named = [kind for kind in asked if kind]
    for kind in named:
        if kind not in TYPES:
            raise inputs.Unprocessable(f"type: one of {', '.join(TYPES)}.")
    return named[:1] or list(TYPES)


def _channels(types: list[str]) -> list[str]:
    return [channel for kind in types for channel in TYPES[kind]]


class UnsubscribedView(ManageView):
    """Statuspage keeps unsubscribed addresses; we delete them when they leave (nothing more is ever sent),
    so this list is always empty."""

    required_permissions = PERMISSIONS

    @extend_schema(tags=["manage: subscribers"], responses=responses(200, serializers.Subscriber(many=True)))
    def get(self, request, page_code):
        self.page(page_code)
        return Response([])


class ReactivateFields(drf.Serializer):
    subscribers = drf.JSONField(help_text='Subscriber ids (a list, or one comma-separated text), or "all".')
    type = drf.CharField(required=False, allow_blank=True)


class ReactivateView(ManageView):
    """Take quarantined subscribers out of quarantine: `{"subscribers": [ids] | "id,id" | "all"}`."""

    required_permissions = {"POST": ("notifications.change_subscriber",)}

    @extend_schema(tags=["manage: subscribers"], request=ReactivateFields, responses=responses(202, None))
    def post(self, request, page_code):
        page = self.page(page_code)
        data = request.data if isinstance(request.data, dict) else {}
        fields = ReactivateFields(data=dict(data))
        if not fields.is_valid():
            raise inputs.Unprocessable('subscribers: a list of subscriber ids, or "all".')
        chosen = fields.validated_data["subscribers"]
        subscribers = Subscriber.objects.filter(page=page)
        if chosen != "all":
            codes = chosen.split(",") if isinstance(chosen, str) else chosen
            if not isinstance(codes, list) or not all(isinstance(code, str) for code in codes):
                raise inputs.Unprocessable('subscribers: a list of subscriber ids, or "all".')
            subscribers = subscribers.filter(code__in=[code.strip() for code in codes])
        types = _types(request.query_params.get("type"), fields.validated_data.get("type"))
        notifications.subscribers_reactivate(subscribers.filter(channel__in=_channels(types)))
        return Response(status=202)


class CountByTypeView(ManageView):
    """How many subscribers of each type (`state` narrows: active, unconfirmed, quarantined; all by default)."""

    required_permissions = PERMISSIONS

    @extend_schema(tags=["manage: subscribers"], responses=responses(200, serializers.SubscriberCountByType))
    def get(self, request, page_code):
        page = self.page(page_code)
        subscribers = Subscriber.objects.filter(page=page)
        state = request.query_params.get("state") or "all"
        ours = {theirs: mine for mine, theirs in STATES.items()}
        if state != "all":
            if state not in ours:
                raise inputs.Unprocessable("state: one of active, unconfirmed, quarantined, all.")
            subscribers = subscribers.filter(state=ours[state])
        by_channel = dict(subscribers.values_list("channel").annotate(n=Count("id")))
        asked = _types(request.query_params.get("type"))
        counts = {
            kind: sum(by_channel.get(channel, 0) for channel in channels) if kind in asked else 0
            for kind, channels in TYPES.items()
        }
        return Response(counts)


class HistogramByStateView(ManageView):
    """The subscribers counted by type, then by state."""

    required_permissions = PERMISSIONS

    @extend_schema(tags=["manage: subscribers"], responses=responses(200, serializers.SubscriberHistogram))
    def get(self, request, page_code):
        page = self.page(page_code)
        rows = Subscriber.objects.filter(page=page).values_list("channel", "state").annotate(n=Count("id"))
        counted = {(channel, state): n for channel, state, n in rows}
        histogram = {}
        for kind, channels in TYPES.items():
            states = {theirs: sum(counted.get((c, mine), 0) for c in channels) for mine, theirs in STATES.items()}
            histogram[kind] = {**states, "total": sum(states.values())}
        return Response(histogram)


class SubscriberView(SubscriberDetailView):
    """One subscriber; PATCH `{"subscriber": {"component_ids": [...]}}` changes what it hears about (none: all)."""

    required_permissions = {**PERMISSIONS, "PATCH": ("notifications.change_subscriber",)}

    @extend_schema(
        tags=["manage: subscribers"],
        request={"application/json": inputs.SubscriberComponentsBody},
        responses=responses(200, serializers.Subscriber, errors=BODY_ERRORS),
    )
    def patch(self, request, page_code, subscriber_code):
        page, subscriber = self.subscriber(page_code, subscriber_code)
        # atlassian-python-api sends the component_ids without their wrapper.
        data = inputs.read_body(request, "subscriber", inputs.SubscriberComponentsFields, bare=True)
        codes = data["component_ids"]
        components = list(Component.objects.filter(page=page, code__in=codes))
        groups = list(ComponentGroup.objects.filter(page=page, code__in=codes))
        missing = set(codes) - {c.code for c in components} - {g.code for g in groups}
        if missing:
            raise inputs.Unprocessable(f"component_ids: no component {', '.join(sorted(missing))} on this page.")
        notifications.subscriber_set_components(subscriber=subscriber, components=components, groups=groups)
        subscriber = _loaded(Subscriber.objects.filter(pk=subscriber.pk)).get()
        return Response(render(serializers.Subscriber, subscriber, page))
