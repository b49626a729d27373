"""The serializer fields and base class behind api/serializers.py.

Timestamps are shown in the page's time zone with milliseconds, as Statuspage shows them; the page comes from
the serializer's context (`context={"page": page}`).
"""

from datetime import UTC, datetime
from functools import cached_property
from operator import attrgetter

from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.fields import SkipField, empty

from incidents.models import Page
from incidents.presentation import local

UTC_NAMES = {"UTC", "Etc/UTC", "Etc/Universal", "Universal", "Zulu", "Etc/Zulu", "GMT", "Etc/GMT"}


def timestamp(dt: datetime | None, page: Page) -> str | None:
    """2021-12-07T11:07:15.773-07:00 in the page's zone; a UTC page shows Z."""
    if dt is None:
        return None
    at = local(dt, page.tz)  # in UTC when the zone cannot show it
    text = at.isoformat(timespec="milliseconds")
    if (page.time_zone in UTC_NAMES or at.tzinfo is UTC) and text.endswith("+00:00"):
        text = text[:-6] + "Z"
    return text


def absolute(path: str) -> str:
    return settings.SITE_URL + path


class PageField:
    """A field that reads the page being shown from the serializer's context."""

    @cached_property
    def page(self) -> Page:
        return self.context["page"]


class PageTimestampField(PageField, serializers.DateTimeField):
    """A date and time in the page's time zone, to the millisecond: 2021-12-07T11:07:15.773-07:00 (Z on UTC)."""

    def to_representation(self, value):
        return timestamp(value, self.page)

    def representer(self):
        """to_representation for one page, with the zone looked up once (OutputSerializer calls it per value)."""
        page = self.page
        tz, utc_name = page.tz, page.time_zone in UTC_NAMES

        def represent(value):
            try:
                at = value.astimezone(tz)
            except (OverflowError, ValueError):
                at = value.astimezone(UTC)  # as incidents.presentation.local: one odd time never takes a page down
            text = at.isoformat(timespec="milliseconds")
            if (utc_name or at.tzinfo is UTC) and text.endswith("+00:00"):
                text = text[:-6] + "Z"
            return text

        return represent


class Constant:
    """A field whose value is the same for every object of one answer: `constant()` gives it."""

    def __init__(self, **kwargs):
        super().__init__(source="*", **kwargs)

    def get_attribute(self, instance):
        return self.constant()

    def to_representation(self, value):
        return value


@extend_schema_field(OpenApiTypes.STR)
class PageIdField(Constant, PageField, serializers.Field):
    """The id of the page being shown."""

    def constant(self):
        return self.page.code


class BlankAsNullCharField(serializers.CharField):
    """A text that is null when empty, as Statuspage shows a missing description."""

    def to_representation(self, value):
        return value or None


@extend_schema_field(OpenApiTypes.STR)
class AlwaysNullField(Constant, serializers.Field):
    """A field of Statuspage's shape that we do not support: always null (e.g. `tweet_id`)."""

    def __init__(self, **kwargs):
        super().__init__(allow_null=True, **kwargs)

    def constant(self):
        return None


class AlwaysFalseField(Constant, serializers.BooleanField):
    """A flag of Statuspage's shape for something we do not do (e.g. `should_tweet`): always false."""

    def constant(self):
        return False


class AlwaysTrueField(Constant, serializers.BooleanField):
    """A flag of Statuspage's shape for something we always do (e.g. a page's `allow_email_subscribers`)."""

    def constant(self):
        return True


class ConstantField(Constant, serializers.CharField):
    """A text that is the same for every object (e.g. a subscriber's `mode`, "email" until webhooks come)."""

    def __init__(self, value: str, **kwargs):
        self.value = value
        super().__init__(**kwargs)

    def constant(self):
        return self.value


# Fields whose DRF representation of a model's value is that value (text, choices, numbers, flags): passed
# through as they are, without a call per value.
PASS_THROUGH = (serializers.CharField, serializers.ChoiceField, serializers.IntegerField, serializers.BooleanField)


class OutputSerializer(serializers.Serializer):
    # A read-only serializer that reads its declared fields in one tight loop. (Comments, not a docstring: the
    # schema would show it as every serializer's description.)
    #
    # DRF's generic to_representation costs several times as much per object (Mapping checks, nested try
    # blocks and a call per value for every field); summary.json shows thousands of values. The semantics are
    # DRF's: a dotted `source` through a missing attribute gives the field's default, null if it allows null,
    # or leaves the key out if it is not required (an object's own attribute must exist); fields that override
    # get_attribute are asked as usual; the value of a plain text, choice, integer or boolean field is shown as
    # the model holds it; Constant fields are filled in once per answer.

    _plan = None

    def _compile(self):
        """The answer's skeleton (every key in order, constants filled in) and how to fill in the rest."""
        fields = list(self._readable_fields)
        skeleton = {f.field_name: f.constant() if isinstance(f, Constant) else None for f in fields}
        steps = [(f.field_name, self._getter(f), self._representer(f)) for f in fields if not isinstance(f, Constant)]
        self._plan = (skeleton, steps)
        return self._plan

    @staticmethod
    def _representer(field):
        if type(field) in PASS_THROUGH:
            return None
        if hasattr(field, "representer"):
            return field.representer()
        return field.to_representation

    @staticmethod
    def _getter(field):
        if type(field).get_attribute is not serializers.Field.get_attribute or field.source == "*":

            def ask(instance):
                try:
                    return field.get_attribute(instance)
                except SkipField:
                    return SkipField

            return ask
        read = attrgetter(".".join(field.source_attrs))
        if field.required and field.default is empty and (len(field.source_attrs) == 1 or not field.allow_null):
            return read  # a model's own attribute is always there

        def get(instance):
            try:
                return read(instance)
            except AttributeError:
                if field.default is not empty:
                    return field.get_default()
                if field.allow_null:
                    return None
                return SkipField

        return get

    def to_representation(self, instance):
        skeleton, steps = self._plan or self._compile()
        result = skeleton.copy()
        for name, get, represent in steps:
            value = get(instance)
            if value is SkipField:
                del result[name]
            elif represent is not None and value is not None:
                result[name] = represent(value)
            else:
                result[name] = value
        return result


class EmptyAsNullList(serializers.ListSerializer):
    """A list shown as null when it is empty (Statuspage's `affected_components`)."""

    def to_representation(self, data):
        return super().to_representation(data) or None
