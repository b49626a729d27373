"""Bounds on every time and size that a responder, a client or an import can enter.

The services call these before they write, so the admin (a form error) and the APIs (422) refuse the same
values with the same message. Each bound keeps the public page sane: a display time in year 1 reads "ongoing
for 739946d", a maintenance in year 9999 cannot be shown in a time zone east of UTC, a 1 MB message makes the
home page megabytes long.
"""

from datetime import UTC, datetime, time, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone

from incidents.choices import ComponentStatus
from incidents.models import Component

# How far in the future a display time may lie (clock skew between a responder's machine and ours).
FUTURE_TOLERANCE = timedelta(minutes=5)
# Markdown messages: update bodies, postmortems, template bodies, descriptions.
MAX_TEXT = 20_000
# Names and titles (the columns may be shorter; the services pass the column's length).
MAX_NAME = 255
# A maintenance is scheduled at most this far ahead, and lasts at most MAINTENANCE_MAX_LENGTH unless the
# responder confirms a longer window (`long_window`).
MAINTENANCE_MAX_AHEAD = timedelta(days=366)
MAINTENANCE_MAX_LENGTH = timedelta(days=14)

# Characters refused in any text: C0 controls but tab, line feed and carriage return (PostgreSQL refuses
# NUL in text; the others break emails and feeds), and DEL.
_ALLOWED_CONTROLS = {"\t", "\n", "\r"}


def earliest_time() -> datetime:
    """The earliest time an update may be shown at (settings.EARLIEST_DISPLAY_DATE, midnight UTC)."""
    return datetime.combine(settings.EARLIEST_DISPLAY_DATE, time.min, tzinfo=UTC)


def _has_control(text: str, *, one_line: bool) -> bool:
    return any((ord(ch) < 32 or ord(ch) == 127) and (one_line or ch not in _ALLOWED_CONTROLS) for ch in text)


def require_text(value, field: str, max_length: int | None = None) -> str:
    """Non-blank text. With a max_length it is a one-line name or title: no line breaks or control
    characters (they would break email subjects and headers); without, a Markdown message of at most
    MAX_TEXT characters, without control characters other than tabs and line breaks."""
    if value is not None and not isinstance(value, str):
        raise ValidationError({field: f"The {field} must be text."})
    text = (value or "").strip()
    if not text:
        raise ValidationError({field: f"The {field} must not be empty."})
    limit = min(max_length, MAX_NAME) if max_length else MAX_TEXT
    if len(text) > limit:
        raise ValidationError({field: f"The {field} must be at most {limit:,} characters (it has {len(text):,})."})
    if max_length and _has_control(text, one_line=True):
        raise ValidationError({field: f"The {field} must be one line, without control characters."})
    if _has_control(text, one_line=False):
        raise ValidationError({field: f"The {field} must not contain control characters (such as NUL)."})
    return text


def optional_text(value, field: str) -> str:
    """Text that may be empty (a description, a draft), bounded like a message."""
    if not value or not str(value).strip():
        return ""
    return require_text(value, field)


def require_aware(value, field: str) -> datetime | None:
    """A display time: with a zone, not before the earliest date, not more than a few minutes ahead."""
    if value is None:
        return None
    if not isinstance(value, datetime) or timezone.is_naive(value):
        raise ValidationError({field: f"The {field} must be a date and time with a time zone."})
    earliest = earliest_time()
    if value < earliest:
        raise ValidationError({field: f"The {field} must not be before {earliest:%Y-%m-%d}."})
    if value > timezone.now() + FUTURE_TOLERANCE:
        raise ValidationError({field: f"The {field} must not be in the future."})
    return value


def require_window(scheduled_for, scheduled_until, *, scheduled_at: datetime, long_window: bool = False) -> None:
    """A maintenance window, as scheduled at `scheduled_at` (now, or the backfilled display time)."""
    for name, value in (("scheduled_for", scheduled_for), ("scheduled_until", scheduled_until)):
        if not isinstance(value, datetime) or timezone.is_naive(value):
            raise ValidationError({name: f"The {name} must be a date and time with a time zone."})
    earliest = earliest_time()
    if scheduled_for < earliest:
        raise ValidationError({"scheduled_for": f"The maintenance must not start before {earliest:%Y-%m-%d}."})
    if scheduled_until <= scheduled_for:
        raise ValidationError({"scheduled_until": "The maintenance must end after it starts."})
    if scheduled_until <= scheduled_at:
        raise ValidationError({"scheduled_until": "This maintenance window has already ended."})
    latest = scheduled_at + MAINTENANCE_MAX_AHEAD
    if scheduled_for > latest or scheduled_until > latest:
        raise ValidationError({"scheduled_for": "A maintenance can be scheduled at most a year ahead."})
    if scheduled_until - scheduled_for > MAINTENANCE_MAX_LENGTH and not long_window:
        days = MAINTENANCE_MAX_LENGTH.days
        raise ValidationError(
            {
                "scheduled_until": f"A maintenance lasts at most {days} days; confirm a longer window "
                "(long window) if you mean it."
            }
        )


def require_choice(value, choices, field: str) -> str:
    """One of a TextChoices' values, or a ValidationError that lists them."""
    if value not in choices.values:
        raise ValidationError({field: f"Unknown {field} {value!r}; expected one of: {', '.join(choices.values)}."})
    return value


def clean_component_changes(page, components) -> dict:
    """{component: status} for components of `page` only, each status a ComponentStatus."""
    changes = {}
    for component, status in (components or {}).items():
        if not isinstance(component, Component) or component.page_id != page.pk:
            raise ValidationError({"components": f"Component {component} does not belong to the page {page}."})
        changes[component] = require_choice(status, ComponentStatus, "component status")
    return changes
