"""Request bodies of the manage API: JSON or form-encoded, wrapped in the resource name, then validated.

A body that is not an object wrapped in its resource name is malformed (400); a value of the wrong type or
outside its choices is invalid (422). Unknown fields are ignored.
"""

import io
import re

from django.conf import settings
from django.http import QueryDict
from rest_framework import exceptions, parsers, serializers, status

from incidents.choices import ALL_STATUSES, ComponentStatus, Impact, IncidentStatus, Visibility
from incidents.codes import CODE_RE

_FORM_KEY = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$")


class Unprocessable(exceptions.APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = "Invalid values."
    default_code = "invalid"


def _malformed(message: str):
    return exceptions.ParseError(message)


class TooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The body is too large."
    default_code = "too_large"

    @staticmethod
    def message() -> str:
        return f"The body is too large (at most {settings.DATA_UPLOAD_MAX_MEMORY_SIZE:,} bytes)."


# Our bodies are two or three levels deep; Python's JSON decoder recurses, so a body nested ~1,000 levels
# deep raised RecursionError (a 500). Deeper than this is refused before decoding.
MAX_JSON_DEPTH = 32
_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')
_NOT_BRACKET = re.compile(rb"[^\[\]{}]+")


def json_depth(raw: bytes, limit: int = MAX_JSON_DEPTH) -> int:
    """How deeply arrays and objects nest in a JSON text (strings ignored); stops counting past `limit`."""
    brackets = _NOT_BRACKET.sub(b"", _JSON_STRING.sub(b"", raw))
    depth = deepest = 0
    for byte in brackets:
        depth += 1 if byte in b"[{" else -1
        if depth > deepest:
            deepest = depth
            if deepest > limit:
                break
    return deepest


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, bounded: a body larger than DATA_UPLOAD_MAX_MEMORY_SIZE answers 413 and one nested
    deeper than MAX_JSON_DEPTH answers 400, both before the decoder sees them."""

    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        raw = stream.read(limit + 1) if limit is not None else stream.read()
        if limit is not None and len(raw) > limit:
            raise TooLarge(TooLarge.message())
        if json_depth(raw) > MAX_JSON_DEPTH:
            raise _malformed(f"JSON parse error - the body is nested more than {MAX_JSON_DEPTH} levels deep.")
        return super().parse(io.BytesIO(raw), media_type, parser_context)


def unflatten(form: QueryDict) -> dict:
    """incident[name]=x&incident[components][abc]=major_outage&incident[component_ids][]=abc → nested dicts."""
    result: dict = {}
    for key, values in form.lists():
        match = _FORM_KEY.match(key)
        if not match:
            raise _malformed(f"Malformed form field name {key!r}.")
        parts = [match.group(1)] + re.findall(r"\[([^\[\]]*)\]", match.group(2))
        node = result
        for part, following in zip(parts, parts[1:] + [None], strict=True):
            if following is None:
                if part == "":
                    raise _malformed(f"Malformed form field name {key!r}.")
                node[part] = values[-1]
            elif following == "" and part != "":
                if isinstance(node.get(part), dict):
                    raise _malformed(f"Conflicting form fields for {key!r}.")
                node[part] = list(values)
                break
            else:
                if part == "":
                    raise _malformed(f"Malformed form field name {key!r}.")
                child = node.setdefault(part, {})
                if not isinstance(child, dict):
                    raise _malformed(f"Conflicting form fields for {key!r}.")
                node = child
    return result


def _messages(errors, prefix="") -> list[str]:
    if isinstance(errors, dict):
        out = []
        for field, value in errors.items():
            out += _messages(value, f"{prefix}{field}: " if field != "non_field_errors" else prefix)
        return out
    if isinstance(errors, list):
        out = []
        for value in errors:
            out += _messages(value, prefix)
        return out
    return [f"{prefix}{errors}"]


def read_body(request, wrapper: str, serializer_class, *, partial: bool = False, bare: bool = False) -> dict:
    """The validated fields of the body `{"<wrapper>": {...}}` (JSON) or `<wrapper>[field]=...` (form); with
    `bare`, also the fields without their wrapper (a client that sends them so)."""
    data = request.data
    if isinstance(data, QueryDict):
        data = unflatten(data)
    if bare and isinstance(data, dict) and wrapper not in data:
        data = {wrapper: data}
    if not isinstance(data, dict) or not isinstance(data.get(wrapper), dict):
        raise _malformed(f'The body must be an object wrapped in its resource name: {{"{wrapper}": {{…}}}}.')
    serializer = serializer_class(data=data[wrapper], partial=partial)
    if not serializer.is_valid():
        raise Unprocessable("; ".join(_messages(serializer.errors)))
    return dict(serializer.validated_data)


class RecentDateTimeField(serializers.DateTimeField):
    """A date and time not before settings.EARLIEST_DISPLAY_DATE (the services check the other bounds)."""

    def to_internal_value(self, value):
        result = super().to_internal_value(value)
        if result.date() < settings.EARLIEST_DISPLAY_DATE:
            raise serializers.ValidationError(f"must not be before {settings.EARLIEST_DISPLAY_DATE:%Y-%m-%d}.")
        return result


class CodeField(serializers.CharField):
    """A public id: 12 lowercase letters or digits."""

    def to_internal_value(self, value):
        value = super().to_internal_value(value)
        if not CODE_RE.match(value):
            raise serializers.ValidationError(f"{value!r} is not an id (12 lowercase letters or digits).")
        return value


class ComponentStatusesField(serializers.DictField):
    """{component id: new status}."""

    child = serializers.ChoiceField(ComponentStatus.choices)

    def to_internal_value(self, data):
        result = super().to_internal_value(data)
        for key in result:
            if not CODE_RE.match(key):
                raise serializers.ValidationError(f"{key!r} is not a component id.")
        return result


class IncidentFields(serializers.Serializer):
    name = serializers.CharField(required=False, allow_blank=True)
    status = serializers.ChoiceField(ALL_STATUSES, required=False)
    impact_override = serializers.ChoiceField(Impact.choices, required=False, allow_blank=True, allow_null=True)
    body = serializers.CharField(required=False, allow_blank=True)
    components = ComponentStatusesField(required=False)
    component_ids = serializers.ListField(child=CodeField(), required=False)
    deliver_notifications = serializers.BooleanField(required=False)
    backfilled = serializers.BooleanField(required=False)
    backfill_date = RecentDateTimeField(required=False, allow_null=True)
    scheduled_for = RecentDateTimeField(required=False, allow_null=True)
    scheduled_until = RecentDateTimeField(required=False, allow_null=True)
    scheduled_remind_prior = serializers.BooleanField(required=False)
    scheduled_auto_in_progress = serializers.BooleanField(required=False)
    scheduled_auto_completed = serializers.BooleanField(required=False)
    scheduled_long_window = serializers.BooleanField(
        required=False, help_text="Ours: confirms a maintenance window longer than 14 days."
    )
    next_update_in = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=7 * 24 * 60,
        help_text="Ours: minutes until the next update is promised (shown while the incident is open).",
    )  # fmt: skip


class IncidentBody(serializers.Serializer):
    incident = IncidentFields()


class IncidentUpdateFields(serializers.Serializer):
    body = serializers.CharField(required=False, allow_blank=True)
    display_at = RecentDateTimeField(required=False)
    deliver_notifications = serializers.BooleanField(required=False)


class IncidentUpdateBody(serializers.Serializer):
    incident_update = IncidentUpdateFields()


class ComponentFields(serializers.Serializer):
    name = serializers.CharField(required=False, allow_blank=True)
    description = serializers.CharField(required=False, allow_blank=True, allow_null=True)
    status = serializers.ChoiceField(ComponentStatus.choices, required=False)
    group_id = CodeField(required=False, allow_null=True, allow_blank=True)
    showcase = serializers.BooleanField(required=False)
    only_show_if_degraded = serializers.BooleanField(required=False)
    start_date = serializers.DateField(required=False, allow_null=True)


class ComponentBody(serializers.Serializer):
    component = ComponentFields()


class ComponentGroupFields(serializers.Serializer):
    name = serializers.CharField(required=False, allow_blank=True)
    description = serializers.CharField(required=False, allow_blank=True, allow_null=True)
    components = serializers.ListField(child=CodeField(), required=False)


class ComponentGroupBody(serializers.Serializer):
    component_group = ComponentGroupFields()


class IncidentTemplateFields(serializers.Serializer):
    name = serializers.CharField(required=False, allow_blank=True)
    title = serializers.CharField(required=False, allow_blank=True)
    body = serializers.CharField(required=False, allow_blank=True)
    group_id = serializers.CharField(required=False, allow_null=True, allow_blank=True)
    update_status = serializers.ChoiceField(IncidentStatus.choices, required=False)
    should_tweet = serializers.BooleanField(required=False)
    should_send_notifications = serializers.BooleanField(required=False)
    component_ids = serializers.ListField(child=CodeField(), required=False)
    components = ComponentStatusesField(
        required=False, help_text="Ours: {component id: the status the template sets} (components of this page)."
    )


class IncidentTemplateBody(serializers.Serializer):
    incident_template = IncidentTemplateFields()


class SubscriberFields(serializers.Serializer):
    email = serializers.EmailField(required=False, allow_blank=True)
    endpoint = serializers.URLField(required=False, allow_blank=True, max_length=500)
    type = serializers.ChoiceField(
        ["webhook", "slack", "teams", "discord"], required=False, help_text="Ours: an endpoint's kind (webhook)."
    )
    component_ids = serializers.ListField(child=CodeField(), required=False)
    skip_confirmation_notification = serializers.BooleanField(required=False)


class SubscriberBody(serializers.Serializer):
    subscriber = SubscriberFields()


class PageFields(serializers.Serializer):
    name = serializers.CharField(required=False)
    time_zone = serializers.CharField(required=False)
    url = serializers.CharField(required=False, allow_blank=True)
    support_url = serializers.CharField(required=False, allow_blank=True)
    default_language = serializers.ChoiceField(
        choices=settings.LANGUAGES, required=False, help_text="Ours: the language of the addresses without a code."
    )
    css_link_color = serializers.CharField(required=False, help_text="The page's accent colour, e.g. #1f5fbf.")
    # Who may read the page (ours; Statuspage sells these as private and audience-specific pages).
    visibility = serializers.ChoiceField(choices=Visibility.choices, required=False)
    password = serializers.CharField(
        required=False, write_only=True, help_text="The shared password (visibility password)."
    )
    allowed_domains = serializers.ListField(
        child=serializers.CharField(), required=False, help_text="Email domains whose addresses may sign in."
    )


class PageBody(serializers.Serializer):
    page = PageFields()


class PageAccessUserFields(serializers.Serializer):
    email = serializers.EmailField(required=False)
    page_access_group_id = serializers.CharField(required=False, allow_null=True, allow_blank=True)


class PageAccessUserBody(serializers.Serializer):
    page_access_user = PageAccessUserFields()


class PostmortemFields(serializers.Serializer):
    body_draft = serializers.CharField(required=False, allow_blank=True)
    notify_subscribers = serializers.BooleanField(required=False)
    notify_twitter = serializers.BooleanField(required=False)
    custom_tweet = serializers.CharField(required=False, allow_blank=True, allow_null=True)


class PostmortemBody(serializers.Serializer):
    postmortem = PostmortemFields()


class SubscriberComponentsFields(serializers.Serializer):
    component_ids = serializers.ListField(child=CodeField())


class SubscriberComponentsBody(serializers.Serializer):
    subscriber = SubscriberComponentsFields()
