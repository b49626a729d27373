"""The response shapes, for the OpenAPI schema only: the responses themselves are built by api/shapes.py.

Schemathesis checks every response against these, so they cannot drift from what the API returns.
"""

from rest_framework import serializers

from incidents.choices import ALL_STATUSES, ComponentStatus, Impact, IncidentStatus, Indicator


class Error(serializers.Serializer):
    error = serializers.CharField()


class PageObject(serializers.Serializer):
    id = serializers.CharField()
    name = serializers.CharField()
    url = serializers.URLField()
    time_zone = serializers.CharField()
    updated_at = serializers.DateTimeField()


class Status(serializers.Serializer):
    indicator = serializers.ChoiceField(Indicator.choices)
    description = serializers.CharField()


class Component(serializers.Serializer):
    id = serializers.CharField()
    name = serializers.CharField()
    status = serializers.ChoiceField(ComponentStatus.choices)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    position = serializers.IntegerField()
    description = serializers.CharField(allow_null=True)
    showcase = serializers.BooleanField()
    start_date = serializers.DateField(allow_null=True)
    group_id = serializers.CharField(allow_null=True)
    page_id = serializers.CharField()
    group = serializers.BooleanField()
    only_show_if_degraded = serializers.BooleanField()
    components = serializers.ListField(
        child=serializers.CharField(), required=False, help_text="A group's children (groups only)."
    )


class AffectedComponent(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    old_status = serializers.ChoiceField(ComponentStatus.choices)
    new_status = serializers.ChoiceField(ComponentStatus.choices)


class IncidentUpdate(serializers.Serializer):
    id = serializers.CharField()
    status = serializers.ChoiceField(ALL_STATUSES)
    body = serializers.CharField()
    incident_id = serializers.CharField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    display_at = serializers.DateTimeField()
    affected_components = AffectedComponent(many=True, allow_null=True)
    deliver_notifications = serializers.BooleanField()
    custom_tweet = serializers.CharField(allow_null=True)
    tweet_id = serializers.CharField(allow_null=True)


class Incident(serializers.Serializer):
    id = serializers.CharField()
    name = serializers.CharField()
    status = serializers.ChoiceField(ALL_STATUSES)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    monitoring_at = serializers.DateTimeField(allow_null=True)
    resolved_at = serializers.DateTimeField(allow_null=True)
    impact = serializers.ChoiceField(Impact.choices)
    shortlink = serializers.URLField()
    started_at = serializers.DateTimeField()
    page_id = serializers.CharField()
    incident_updates = IncidentUpdate(many=True)
    components = Component(many=True)
    reminder_intervals = serializers.CharField(allow_null=True)
    next_update_at = serializers.DateTimeField(allow_null=True, help_text="Ours: the promised next update.")


class Maintenance(Incident):
    scheduled_for = serializers.DateTimeField()
    scheduled_until = serializers.DateTimeField()


class IncidentTemplate(serializers.Serializer):
    id = serializers.CharField()
    name = serializers.CharField()
    title = serializers.CharField()
    body = serializers.CharField()
    group_id = serializers.CharField(allow_null=True)
    update_status = serializers.ChoiceField(IncidentStatus.choices)
    should_tweet = serializers.BooleanField()
    should_send_notifications = serializers.BooleanField()
    components = Component(many=True)
    component_statuses = serializers.DictField(
        child=serializers.ChoiceField(ComponentStatus.choices), help_text="Ours: the status it sets per component id."
    )


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


class Subscriber(serializers.Serializer):
    id = serializers.CharField()
    mode = serializers.CharField()
    email = serializers.EmailField()
    endpoint = serializers.CharField(allow_null=True)
    components = serializers.ListField(child=serializers.CharField())
    incident_id = serializers.CharField(allow_null=True)
    state = serializers.CharField()
    created_at = serializers.DateTimeField()
    confirmed_at = serializers.DateTimeField(allow_null=True)
    quarantined_at = serializers.DateTimeField(allow_null=True)


class ComponentResolveTime(serializers.Serializer):
    component = serializers.CharField()
    seconds = serializers.IntegerField()
    incidents = serializers.IntegerField()


class PageMetrics(serializers.Serializer):
    days = serializers.IntegerField()
    mean_time_to_resolve = ComponentResolveTime(many=True)
