"""The maintenance calendar (/maintenance.ics), written with the icalendar library (RFC 5545)."""

from django.utils.html import strip_tags
from django.utils.translation import gettext as _
from icalendar import Calendar, Event

from incidents.markup import render_markdown


def _plain(markdown_text: str) -> str:
    return strip_tags(render_markdown(markdown_text)).strip()


def calendar_of(page, maintenances, base_url: str, now) -> bytes:
    """`maintenances` carry `.timeline`, their updates newest first."""
    host = base_url.split("://", 1)[-1]
    calendar = Calendar()
    calendar.add("prodid", f"-//{page.name} Status//Scheduled maintenance//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", _("%(page)s scheduled maintenance") % {"page": page.name})
    for maintenance in maintenances:
        latest = maintenance.timeline[0] if maintenance.timeline else None
        event = Event()
        event.add("uid", f"{maintenance.code}@{host}")
        event.add("dtstamp", now)
        event.add("last-modified", maintenance.updated_at)
        event.add("dtstart", maintenance.scheduled_for)
        event.add("dtend", maintenance.scheduled_until)
        event.add("summary", f"{maintenance.name} ({_(maintenance.get_status_display())})")
        event.add("description", _plain(latest.body) if latest else "")
        event.add("url", base_url + page.public_url("incident", code=maintenance.code))
        event.add("status", "CONFIRMED")
        calendar.add_component(event)
    return calendar.to_ical()
