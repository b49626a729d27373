"""What every part of the importer shares: the reason an object is skipped, and keeping the source's ids."""

from datetime import datetime

from django.utils.dateparse import parse_datetime

from incidents.models import IncidentUpdate, Page


class Skip(Exception):
    """This object cannot be imported; the message says why."""


def source_time(value) -> datetime | None:
    if not value:
        return None
    parsed = parse_datetime(value)
    if parsed is None:
        raise Skip(f"{value!r} is not a date and time")
    return parsed


def keep_source_id(obj, code: str, created_at=None) -> None:
    """Give a row created by a service the source's id (and creation time)."""
    fields = {"code": code}
    if created_at:
        fields["created_at"] = source_time(created_at)
    type(obj).objects.filter(pk=obj.pk).update(**fields)
    obj.code = code


def claimed_elsewhere(model, code: str, page: Page) -> bool:
    owner = "incident__page" if model is IncidentUpdate else "page"
    return model.objects.filter(code=code).exclude(**{owner: page}).exists()
