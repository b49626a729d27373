"""Template filters for the public pages, emails and feeds. All presentation logic lives in
incidents/presentation.py; these only expose it."""

from django import template
from django.utils.safestring import mark_safe
from django.utils.translation import gettext

from incidents import languages, presentation
from incidents.choices import COMPONENT_COLOUR, INDICATOR_COMPONENT_STATUS, ComponentStatus, Impact
from incidents.markup import render_markdown
from incidents.uptime_bars import bar_html

register = template.Library()


@register.filter
def markdown(text: str) -> str:
    return mark_safe(render_markdown(text))  # noqa: S308 - sanitised by nh3 in render_markdown


@register.filter
def excerpt(text: str) -> str:
    """An update's Markdown as one line of plain text (escaped by the template like any text)."""
    return presentation.excerpt(text)


@register.filter
def iso_minute(dt) -> str:
    """A machine-readable time for <time datetime>, to the minute in UTC: 2026-11-27T18:07Z."""
    return presentation.iso_minute(dt)


@register.filter
def posted(dt, page) -> str:
    return presentation.format_posted(dt, page.tz)


@register.filter
def page_date(dt, page) -> str:
    return presentation.format_date(dt, page.tz)


@register.filter
def page_time(dt, page) -> str:
    return presentation.format_time(dt, page.tz)


@register.filter
def status_label(status: str) -> str:
    return gettext(ComponentStatus(status).label)


@register.filter
def indicator_icon(indicator: str) -> str:
    return INDICATOR_COMPONENT_STATUS.get(indicator, ComponentStatus.MAJOR_OUTAGE)


@register.filter
def status_colour(status: str) -> str:
    return COMPONENT_COLOUR[status]


@register.filter
def impact_label(impact: str) -> str:
    return gettext(Impact(impact).label)


@register.filter
def percent(figure: str) -> str:
    """An uptime figure in the locale's way of writing numbers (99,98 in French)."""
    return presentation.format_percent(figure)


@register.filter
def translated(label: str) -> str:
    """A label of the domain (a status, an update's "Update", the page's status line) in the page's language."""
    return gettext(label)


@register.filter
def duration(incident, now=None) -> str:
    delta = incident.duration(now)
    return presentation.format_duration(delta) if delta is not None else ""


@register.simple_tag
def page_url(page, name, *args) -> str:
    """A page's public path: at / for the default page, under /p/<id>/ for the others."""
    kwargs = {"code": args[0]} if args else {}
    return page.public_url(name, **kwargs)


@register.simple_tag
def history_page_url(page, number: int) -> str:
    """The path of one history page: /history for the first, /history/page/N for the others."""
    return page.public_url("history") if number <= 1 else page.public_url("history-page", number=number)


@register.filter
def describe_day(day, with_related=True) -> str:
    return presentation.describe_day(day, with_related=with_related)


@register.filter
def duration_text(delta) -> str:
    """A timedelta as 3h 20m (empty for None)."""
    return presentation.format_duration(delta) if delta is not None else ""


@register.filter
def window(incident, page) -> str:
    return presentation.format_window(incident.scheduled_for, incident.scheduled_until, page.tz)


@register.simple_tag
def uptime_bar(component, page, days):
    """A component's uptime bar with its legend and the days that were not all operational
    (incidents/uptime_bars.py)."""
    detail_url = f"{page.public_url('uptime')}#c-{component.code}"
    return bar_html(component, component.uptime, days=days, detail_url=detail_url)


@register.simple_tag(takes_context=True)
def language_links(context, page):
    """The language switcher's links: this address in every language (incidents/languages.py)."""
    request = context.get("request")
    if request is None or page is None:
        return []
    return languages.switcher(request.path, page)
