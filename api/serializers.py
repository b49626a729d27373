"""Every object the API answers with, in Statuspage's shapes: the one description used by the views and by
drf-spectacular (schemathesis checks each response against it). Keys come out in declaration order.

Serialize with `context={"page": page}`: timestamps are shown in the page's time zone. What each serializer
expects to be loaded (to avoid N+1 queries) is what incidents/selectors.py loads (its "what the API shows" part).
"""

from operator import attrgetter

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from api.fields import (
    AlwaysFalseField,
    AlwaysNullField,
    AlwaysTrueField,
    BlankAsNullCharField,
    ConstantField,
    EmptyAsNullList,
    OutputSerializer,
    PageField,
    PageIdField,
    PageTimestampField,
    absolute,
)
from incidents.choices import ALL_STATUSES, ComponentStatus, Impact, IncidentStatus, Indicator
from incidents.public_cache import fragments


class Error(serializers.Serializer):
    error = serializers.CharField()


class PageUrlField(serializers.URLField):
    def get_attribute(self, instance):
        return absolute(instance.get_absolute_url())


class PageObject(OutputSerializer):
    id = serializers.CharField(source="code")
    name = serializers.CharField()
    url = PageUrlField(source="*")
    time_zone = serializers.CharField()
    updated_at = PageTimestampField()


class Status(OutputSerializer):
    indicator = serializers.ChoiceField(Indicator.choices)
    description = serializers.CharField()

    def to_representation(self, instance):
        return {"indicator": str(instance.indicator), "description": instance.description}


@extend_schema_field(OpenApiTypes.BOOL)
class IsGroupField(serializers.Field):
    def __init__(self, **kwargs):
        super().__init__(source="*", **kwargs)

    def to_representation(self, value):
        return getattr(value, "is_group", False)


class Component(OutputSerializer):
    # A component, or a group shown as Statuspage shows it (incidents.selectors.GroupAsComponent).

    id = serializers.CharField(source="code")
    name = serializers.CharField()
    status = serializers.ChoiceField(ComponentStatus.choices)
    created_at = PageTimestampField()
    updated_at = PageTimestampField()
    position = serializers.IntegerField()
    description = BlankAsNullCharField(allow_null=True)
    showcase = serializers.BooleanField()
    start_date = serializers.DateField(allow_null=True)
    group_id = serializers.CharField(source="group.code", allow_null=True)  # a component's group must be loaded
    page_id = PageIdField()
    group = IsGroupField()
    only_show_if_degraded = serializers.BooleanField()
    components = serializers.ListField(
        child=serializers.CharField(), source="children", required=False, help_text="A group's children (groups only)."
    )

    def to_representation(self, instance):
        # Kept in this process (incidents.public_cache.fragments) under every value it shows: the same for every
        # document, viewer and render until one of them changes (summary.json lists a hundred of them).
        page = self.context["page"]
        group, children = instance.group, getattr(instance, "children", None)
        key = (
            "api:component", page.code, page.time_zone, type(instance).__name__, group and group.code,
            None if children is None else tuple(children), *_component_inputs(instance),
        )  # fmt: skip
        shown = fragments.get(key)
        if shown is None:
            shown = super().to_representation(instance)
            fragments.put(key, shown)
        return dict(shown)


_component_inputs = attrgetter(
    "code", "name", "status", "created_at", "updated_at", "position", "description", "showcase", "start_date",
    "only_show_if_degraded",
)  # fmt: skip


class AffectedComponent(OutputSerializer):
    code = serializers.CharField(source="component.code")
    name = serializers.CharField(source="component.name")
    old_status = serializers.ChoiceField(ComponentStatus.choices)
    new_status = serializers.ChoiceField(ComponentStatus.choices)

    class Meta:
        list_serializer_class = EmptyAsNullList


class IncidentUpdate(OutputSerializer):
    # An update; its `changes` (component status changes with their components) must be loaded.

    id = serializers.CharField(source="code")
    status = serializers.ChoiceField(ALL_STATUSES)
    body = serializers.CharField()
    incident_id = serializers.CharField(source="incident.code")
    created_at = PageTimestampField()
    updated_at = PageTimestampField()
    display_at = PageTimestampField()
    affected_components = AffectedComponent(many=True, allow_null=True, source="changes")
    deliver_notifications = serializers.BooleanField()
    custom_tweet = AlwaysNullField()
    tweet_id = AlwaysNullField()


@extend_schema_field(serializers.DictField(child=serializers.ChoiceField(ComponentStatus.choices)))
class ComponentStatusesField(serializers.Field):
    """{component id: the status the template sets}, from its component links."""

    def to_representation(self, links):
        return {link.component.code: link.status for link in links if link.status}


class ShortlinkField(PageField, serializers.URLField):
    def to_representation(self, value):
        return absolute(self.page.public_url("incident", code=value))


class PromiseField(PageTimestampField):
    """Ours: the promised time of the next update while the incident is open."""

    def get_attribute(self, instance):
        return instance.next_update_at if instance.is_open else None


class Incident(OutputSerializer):
    # An incident from incidents.selectors.with_details: updates newest first, components as full objects.

    id = serializers.CharField(source="code")
    name = serializers.CharField()
    status = serializers.ChoiceField(ALL_STATUSES)
    created_at = PageTimestampField()
    updated_at = PageTimestampField()
    monitoring_at = PageTimestampField(allow_null=True)
    resolved_at = PageTimestampField(allow_null=True)
    impact = serializers.ChoiceField(Impact.choices)
    shortlink = ShortlinkField(source="code")
    started_at = PageTimestampField()
    page_id = PageIdField()
    incident_updates = IncidentUpdate(many=True, source="timeline")
    components = Component(many=True, source="component_list")
    reminder_intervals = AlwaysNullField()
    next_update_at = PromiseField(allow_null=True, help_text="Ours: the promised next update.")


class Maintenance(Incident):
    scheduled_for = PageTimestampField()
    scheduled_until = PageTimestampField()


class IncidentTemplate(OutputSerializer):
    # A template from incidents.selectors.load_templates (its component links in page order).

    id = serializers.CharField(source="code")
    name = serializers.CharField()
    title = serializers.CharField()
    body = serializers.CharField()
    group_id = AlwaysNullField()
    update_status = serializers.ChoiceField(IncidentStatus.choices)
    should_tweet = AlwaysFalseField()
    should_send_notifications = serializers.BooleanField()
    components = Component(many=True, source="linked_components")
    component_statuses = ComponentStatusesField(source="links", help_text="Ours: the status it sets per component id.")


class Subscriber(OutputSerializer):
    # A subscriber with its incident, components and groups loaded.
    # `components` lists the chosen components and groups (empty: every component of the page).

    id = serializers.CharField(source="code")
    mode = serializers.CharField(source="channel")
    email = BlankAsNullCharField(allow_null=True)
    endpoint = BlankAsNullCharField(allow_null=True)
    components = serializers.SerializerMethodField()
    incident_id = serializers.CharField(source="incident.code", allow_null=True)
    state = serializers.CharField()
    created_at = PageTimestampField()
    confirmed_at = PageTimestampField(allow_null=True)
    quarantined_at = PageTimestampField(allow_null=True)

    def get_components(self, subscriber) -> list[str]:
        if subscriber.all_components:
            return []
        return [c.code for c in subscriber.components.all()] + [g.code for g in subscriber.groups.all()]


class ComponentResolveTime(serializers.Serializer):
    component = serializers.CharField()
    seconds = serializers.IntegerField()
    incidents = serializers.IntegerField()


class PageMetrics(serializers.Serializer):
    days = serializers.IntegerField()
    mean_time_to_resolve = ComponentResolveTime(many=True)


# The public documents: their instance is a dict of the objects above.


class StatusDocument(serializers.Serializer):
    page = PageObject()
    status = Status()


class ComponentsDocument(serializers.Serializer):
    page = PageObject()
    components = Component(many=True)


class IncidentsDocument(serializers.Serializer):
    page = PageObject()
    incidents = Incident(many=True)


class IncidentDocument(serializers.Serializer):
    page = PageObject()
    incident = Incident()


class MaintenancesDocument(serializers.Serializer):
    page = PageObject()
    scheduled_maintenances = Maintenance(many=True)


class Summary(serializers.Serializer):
    page = PageObject()
    components = Component(many=True)
    incidents = Incident(many=True)
    scheduled_maintenances = Maintenance(many=True)
    status = Status()


def render(serializer_class, instance, page, **kwargs):
    """The serialized object (or list, with many=True) for `page`."""
    return serializer_class(instance, context={"page": page}, **kwargs).data


def render_incidents(incidents, page) -> list[dict]:
    """Incidents and maintenances mixed, each in its shape (the manage API's lists)."""
    context = {"page": page}
    incident, maintenance = Incident(context=context), Maintenance(context=context)
    return [(maintenance if i.is_maintenance else incident).to_representation(i) for i in incidents]


class PageProfile(OutputSerializer):
    # The manage API's page (GET /api/v1/pages/<id>): Statuspage's profile fields; those we have no setting for
    # hold the value that matches what we do.

    id = serializers.CharField(source="code")
    created_at = PageTimestampField()
    updated_at = PageTimestampField()
    name = serializers.CharField()
    page_description = AlwaysNullField()
    headline = AlwaysNullField()
    branding = ConstantField("basic")
    subdomain = AlwaysNullField()
    domain = AlwaysNullField()
    url = BlankAsNullCharField(allow_null=True, help_text="The company's website, linked from the header.")
    support_url = BlankAsNullCharField(allow_null=True)
    hidden_from_search = AlwaysFalseField()
    allow_page_subscribers = AlwaysTrueField()
    allow_incident_subscribers = AlwaysTrueField()
    allow_email_subscribers = AlwaysTrueField()
    allow_sms_subscribers = AlwaysFalseField()
    allow_rss_atom_feeds = AlwaysTrueField()
    allow_webhook_subscribers = AlwaysTrueField()
    time_zone = serializers.CharField()
    default_language = serializers.CharField(help_text="Ours: the language of the page's addresses without a code.")
    css_link_color = serializers.CharField(source="accent_colour")
    status_page_url = PageUrlField(source="*", help_text="Ours: the public status page.")
    visibility = serializers.CharField(help_text="Ours: public, private, password or email_domain.")
    allowed_domains = serializers.SerializerMethodField(help_text="Ours: the email domains that may sign in.")

    def get_allowed_domains(self, page) -> list[str]:
        return page.domain_list()


class PageAccessUser(OutputSerializer):
    # A named viewer of a non-public page, in Statuspage's page_access_user shape.

    id = serializers.SerializerMethodField()
    page_id = serializers.CharField(source="page.code")
    email = serializers.CharField()
    external_login = AlwaysNullField()
    page_access_group_id = serializers.SerializerMethodField()
    page_access_group_ids = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField(source="created_at")

    def get_id(self, viewer) -> str:
        return str(viewer.pk)

    def get_page_access_group_id(self, viewer) -> str | None:
        return str(viewer.group_id) if viewer.group_id else None

    def get_page_access_group_ids(self, viewer) -> list[str]:
        return [str(viewer.group_id)] if viewer.group_id else []


class Postmortem(serializers.Serializer):
    # An incident's postmortem (instance: api.manage_postmortems.PostmortemState).

    preview_key = AlwaysNullField()
    body = serializers.CharField(allow_null=True, help_text="The published text (null until published).")
    body_updated_at = PageTimestampField(allow_null=True)
    body_draft = BlankAsNullCharField(allow_null=True)
    published_at = PageTimestampField(allow_null=True)
    notify_subscribers = serializers.BooleanField()
    notify_twitter = AlwaysFalseField()
    custom_tweet = AlwaysNullField()
    created_at = PageTimestampField(allow_null=True)
    updated_at = PageTimestampField(allow_null=True)


class RelatedEvent(serializers.Serializer):
    id = serializers.CharField()


class ComponentUptime(serializers.Serializer):
    # One component's uptime over a range of days (instance: a dict built by api.manage_pages).

    range_start = serializers.DateField()
    range_end = serializers.DateField()
    uptime_percentage = serializers.FloatField(allow_null=True)
    major_outage = serializers.IntegerField()
    partial_outage = serializers.IntegerField()
    warnings = serializers.ListField(child=serializers.CharField())
    id = serializers.CharField()
    name = serializers.CharField()
    related_events = RelatedEvent(many=True)


class SubscriberCountByType(serializers.Serializer):
    email = serializers.IntegerField()
    sms = serializers.IntegerField()
    webhook = serializers.IntegerField()
    integration_partner = serializers.IntegerField()
    slack = serializers.IntegerField()


class SubscriberCountByState(serializers.Serializer):
    active = serializers.IntegerField()
    unconfirmed = serializers.IntegerField()
    quarantined = serializers.IntegerField()
    total = serializers.IntegerField()


class SubscriberHistogram(serializers.Serializer):
    email = SubscriberCountByState()
    sms = SubscriberCountByState()
    webhook = SubscriberCountByState()
    integration_partner = SubscriberCountByState()
    slack = SubscriberCountByState()
