"""How the domain reads to people: labels, durations, times in the page's zone, the affected line.

Everything here speaks the active language (django.utils.translation): words through gettext, dates and
times through the active locale's formats (statuspage/formats/ adjusts Django's own where ours differ).
"""

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from html.parser import HTMLParser
from zoneinfo import ZoneInfo

from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext

from incidents.choices import Impact
from incidents.markup import render_markdown
from incidents.selectors import in_page_order

LESS_THAN_A_MINUTE = gettext_lazy("less than a minute")


def format_duration(delta: timedelta) -> str:
    """3h 20m; 2d 4h 5m; 45m; "less than a minute" (never "0m", which reads as nothing at all)."""
    minutes = int(delta.total_seconds() // 60)
    if minutes <= 0:
        return str(LESS_THAN_A_MINUTE)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    parts = []
    if days:
        parts.append(pgettext("duration", "%(days)dd") % {"days": days})
    if days or hours:
        parts.append(pgettext("duration", "%(hours)dh") % {"hours": hours})
    parts.append(pgettext("duration", "%(minutes)dm") % {"minutes": minutes})
    return " ".join(parts)


def join_words(items: Sequence[str]) -> str:
    """A; A and B; A, B, and C (in the active language: "A, B et C")."""
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    if len(items) == 2:
        return _("%(first)s and %(last)s") % {"first": items[0], "last": items[1]}
    return _("%(list)s, and %(last)s") % {"list": ", ".join(items[:-1]), "last": items[-1]}


def local(dt: datetime, tz: ZoneInfo) -> datetime:
    """The time in the page's zone; in UTC (named so) when the zone cannot show it (a stored extreme value
    such as 9999-12-31 22:00 UTC is year 10000 in Paris): one odd time never takes a page down."""
    try:
        return dt.astimezone(tz)
    except (OverflowError, ValueError):
        return dt.astimezone(UTC)


UTC_NAMES = {"UTC", "Etc/UTC", "Etc/Universal", "Universal", "Zulu", "Etc/Zulu", "GMT", "Etc/GMT"}


def timestamp(dt: datetime | None, page) -> str | None:
    """Statuspage's timestamps (APIs, webhooks): 2021-12-07T11:07:15.773-07:00 in the page's zone; a UTC page
    shows Z."""
    if dt is None:
        return None
    at = local(dt, page.tz)  # in UTC when the zone cannot show it
    text = at.isoformat(timespec="milliseconds")
    if (page.time_zone in UTC_NAMES or at.tzinfo is UTC) and text.endswith("+00:00"):
        text = text[:-6] + "Z"
    return text


def iso_minute(dt: datetime) -> str:
    """2026-11-27T18:07Z: the UTC minute, as short as a <time datetime> can be."""
    return f"{dt.astimezone(UTC):%Y-%m-%dT%H:%MZ}"


def format_day(day: date) -> str:
    """Jun 6, 2025 (the locale's SHORT_DATE_FORMAT: 6 juin 2025, 6. Juni 2025)."""
    return formats.date_format(day, "SHORT_DATE_FORMAT")


def format_percent(percent: str) -> str:
    """An uptime figure ("99.98", as the APIs give it) as the locale writes numbers: 99.98, 99,98."""
    return formats.number_format(Decimal(percent), 2, use_l10n=True)


def format_month(day: date) -> str:
    """June 2025 (YEAR_MONTH_FORMAT: juin 2025, junio de 2025)."""
    return formats.date_format(day, "YEAR_MONTH_FORMAT")


def format_date(dt: datetime, tz: ZoneInfo) -> str:
    """Jun 6, 2025, in the page's zone."""
    return format_day(local(dt, tz).date())


def format_long_date(dt: datetime, tz: ZoneInfo) -> str:
    """June 6, 2025 (DATE_FORMAT)."""
    return formats.date_format(local(dt, tz).date(), "DATE_FORMAT")


def clock(dt: datetime) -> str:
    """21:01, as the locale tells the time (TIME_FORMAT)."""
    return formats.time_format(dt, "TIME_FORMAT")


def format_time(dt: datetime, tz: ZoneInfo) -> str:
    """21:01 UTC (the zone's abbreviation at that moment)."""
    d = local(dt, tz)
    return f"{clock(d)} {d.tzname()}"


def format_posted(dt: datetime, tz: ZoneInfo) -> str:
    """Jun 6, 2025 - 21:01 UTC."""
    return f"{format_date(dt, tz)} - {format_time(dt, tz)}"


def affected_groups(components: Sequence) -> list[tuple[str, list[str]]]:
    """The affected components as (top-level name, [children]) in page order.

    A grouped component appears under its group's name; an ungrouped one stands alone with no children.
    `components` need `group` loaded.
    """
    entries: dict[int, tuple[str, list[str]]] = {}
    result = []
    for component in in_page_order(components):
        group = component.group
        if group is None:
            result.append((component.name, []))
        elif group.id not in entries:
            entries[group.id] = (group.name, [component.name])
            result.append(entries[group.id])
        else:
            entries[group.id][1].append(component.name)
    return result


def affected_line(components: Sequence) -> str:
    """API (Transactional API, Campaigns API), Webservices (SDK), and Delivery (Push campaigns)."""
    parts = [f"{name} ({', '.join(children)})" if children else name for name, children in affected_groups(components)]
    return join_words(parts)


IMPACT_PHRASES = {
    Impact.MINOR: gettext_lazy("a minor incident"),
    Impact.MAJOR: gettext_lazy("a major incident"),
    Impact.CRITICAL: gettext_lazy("a critical incident"),
}


def impact_phrase(impact: str) -> str:
    """a minor incident; a major incident; a critical incident; an incident."""
    return str(IMPACT_PHRASES.get(impact, gettext_lazy("an incident")))


def incident_summary(incident, page, components: Sequence, now: datetime) -> str:
    """The one-sentence summary at the top of an incident page."""
    tz = page.tz
    # A group with several affected children is named by the group, a lone child by itself.
    names = join_words([children[0] if len(children) == 1 else name for name, children in affected_groups(components)])
    values = {"page": page.name, "impact": impact_phrase(incident.impact), "names": names}
    if incident.resolved_at is None:
        values["duration"] = format_duration(incident.duration(now))
        if names:
            return _("%(page)s is experiencing %(impact)s affecting %(names)s, ongoing for %(duration)s.") % values
        return _("%(page)s is experiencing %(impact)s, ongoing for %(duration)s.") % values
    values |= {"date": format_long_date(incident.started_at, tz), "duration": format_duration(incident.duration())}
    if names:
        return _("%(page)s experienced %(impact)s on %(date)s affecting %(names)s, lasting %(duration)s.") % values
    return _("%(page)s experienced %(impact)s on %(date)s, lasting %(duration)s.") % values


def format_span(seconds: int) -> str:
    """A whole number of seconds: 56s under a minute, else as format_duration (1h 0m)."""
    if seconds < 60:
        return pgettext("duration", "%(seconds)ds") % {"seconds": seconds}
    return format_duration(timedelta(seconds=seconds))


DOWNTIME_KINDS = {
    "major": gettext_lazy("%(span)s major outage"),
    "partial": gettext_lazy("%(span)s partial outage"),
    "degraded": gettext_lazy("%(span)s degraded performance"),
    "maintenance": gettext_lazy("%(span)s maintenance"),
}


def describe_day(day, with_related: bool = True) -> str:
    """One day of a component's uptime as a sentence: for tooltips and screen readers.

    It reads the same whole seconds (day.spans) as the bar's colour (day.level), so a day painted red
    always says how long, even when that was 56 seconds."""
    when = format_day(day.date)
    if not day.has_data:
        return _("%(day)s: No data exists for this day.") % {"day": when}
    parts = [DOWNTIME_KINDS[kind] % {"span": format_span(seconds)} for kind, seconds in day.spans]
    if not parts:
        return _("%(day)s: No downtime recorded on this day.") % {"day": when}
    text = _("%(day)s: %(downtime)s.") % {"day": when, "downtime": ", ".join(parts)}
    if day.incidents and with_related:
        text += " " + _("Related: %(names)s.") % {"names": join_words(list(day.incidents.values()))}
    return text


def calendar_months(days) -> list[tuple[str, list[list]]]:
    """Days grouped into month calendars: [(title, weeks)], each week seven cells (a day or None), Monday first."""
    months: dict[tuple[int, int], list] = {}
    for day in days:
        months.setdefault((day.date.year, day.date.month), []).append(day)
    result = []
    for (year, month), members in months.items():
        first = date(year, month, 1)
        cells: list = [None] * first.weekday()
        by_day = {d.date.day: d for d in members}
        last = (date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)).day
        cells += [by_day.get(n, n) for n in range(1, last + 1)]
        cells += [None] * (-len(cells) % 7)
        result.append((format_month(first), [cells[i : i + 7] for i in range(0, len(cells), 7)]))
    return result


def format_window(start: datetime, end: datetime, tz: ZoneInfo) -> str:
    """Nov 26, 2026 02:00 - 04:00 CET, or with both dates when it spans days."""
    a, b = local(start, tz), local(end, tz)
    if a.date() == b.date():
        return f"{format_day(a.date())} {clock(a)} - {clock(b)} {b.tzname()}"
    return f"{format_day(a.date())} {clock(a)} {a.tzname()} - {format_day(b.date())} {clock(b)} {b.tzname()}"


def maintenance_summary(maintenance, page) -> str:
    window = format_window(maintenance.scheduled_for, maintenance.scheduled_until, page.tz)
    return _("Scheduled for %(window)s.") % {"window": window}


class _Prose(HTMLParser):
    """The text blocks of rendered Markdown, as (kind, text): paragraphs and list items.

    Headings, tables and code blocks are left out: in one line of plain text they read as word salad.
    """

    SKIPPED = {"h1", "h2", "h3", "h4", "h5", "h6", "table", "pre"}
    BLOCKS = {"p", "li", "dt", "dd", "blockquote", "ul", "ol", "dl"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.blocks: list[tuple[str, str]] = []
        self._open: list[str] = []
        self._text: list[str] = []
        self._skipping = 0

    def _flush(self):
        text = " ".join("".join(self._text).split())
        self._text = []
        if text:
            self.blocks.append(("li" if self._open and self._open[-1] == "li" else "p", text))

    def handle_starttag(self, tag, attrs):
        if tag in self.SKIPPED:
            self._skipping += 1
        elif tag in self.BLOCKS:
            self._flush()
            self._open.append(tag)
        elif tag == "br":
            self._text.append(" ")

    def handle_endtag(self, tag):
        if tag in self.SKIPPED:
            self._skipping = max(self._skipping - 1, 0)
        elif tag in self.BLOCKS:
            self._flush()
            if tag in self._open:
                del self._open[len(self._open) - 1 - self._open[::-1].index(tag) :]

    def handle_data(self, data):
        if not self._skipping:
            self._text.append(data)


ENDS_A_SENTENCE = tuple(".!?:;…")


@lru_cache(maxsize=4096)
def excerpt(markdown_text: str, words: int = 30) -> str:
    """An update's Markdown as one readable line of plain text, at most `words` words.

    Paragraphs follow each other as sentences, the items of a list are joined by semicolons; headings,
    tables and code blocks are left out. The result is text, not markup (templates escape it).
    """
    prose = _Prose()
    prose.feed(render_markdown(markdown_text))
    prose.close()
    prose._flush()
    line, previous = "", None
    for kind, text in prose.blocks:
        if line:
            if not line.endswith(ENDS_A_SENTENCE):
                line += ";" if kind == previous == "li" else "."
            line += " "
        line += text
        previous = kind
    chosen = line.split()
    if len(chosen) <= words:
        return " ".join(chosen)
    return " ".join(chosen[:words]).rstrip(",;:") + "…"
