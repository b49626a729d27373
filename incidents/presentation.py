"""How the domain reads to people: labels, durations, times in the page's zone, the affected line."""

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from html.parser import HTMLParser
from zoneinfo import ZoneInfo

from incidents.choices import Impact
from incidents.markup import render_markdown
from incidents.selectors import in_page_order

LESS_THAN_A_MINUTE = "less than a minute"


def format_duration(delta: timedelta) -> str:
    """3h 20m; 2d 4h 5m; 45m; "less than a minute" (never "0m", which reads as nothing at all)."""
    minutes = int(delta.total_seconds() // 60)
    if minutes <= 0:
        return LESS_THAN_A_MINUTE
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    parts = []
    if days:
        parts.append(f"{days}d")
    if days or hours:
        parts.append(f"{hours}h")
    parts.append(f"{minutes}m")
    return " ".join(parts)


def join_english(items: Sequence[str]) -> str:
    """A; A and B; A, B, and C."""
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    if len(items) == 2:
        return f"{items[0]} and {items[1]}"
    return ", ".join(items[:-1]) + f", and {items[-1]}"


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
    """Jun 6, 2025."""
    return f"{day:%b} {day.day}, {day.year}"


def format_date(dt: datetime, tz: ZoneInfo) -> str:
    """Jun 6, 2025, in the page's zone."""
    return format_day(local(dt, tz).date())


def format_long_date(dt: datetime, tz: ZoneInfo) -> str:
    """June 6, 2025."""
    d = local(dt, tz)
    return f"{d:%B} {d.day}, {d.year}"


def format_time(dt: datetime, tz: ZoneInfo) -> str:
    """21:01 UTC (the zone's abbreviation at that moment)."""
    d = local(dt, tz)
    return f"{d:%H:%M} {d.tzname()}"


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
    return join_english(parts)


def impact_phrase(impact: str) -> str:
    """a minor incident; a major incident; a critical incident; an incident."""
    if impact == Impact.NONE:
        return "an incident"
    return f"a {impact} incident"


def incident_summary(incident, page, components: Sequence, now: datetime) -> str:
    """The one-sentence summary at the top of an incident page."""
    tz = page.tz
    # A group with several affected children is named by the group, a lone child by itself.
    names = join_english(
        [children[0] if len(children) == 1 else name for name, children in affected_groups(components)]
    )
    affecting = f" affecting {names}" if names else ""
    if incident.resolved_at is None:
        return (
            f"{page.name} is experiencing {impact_phrase(incident.impact)}{affecting}, "
            f"ongoing for {format_duration(incident.duration(now))}."
        )
    return (
        f"{page.name} experienced {impact_phrase(incident.impact)} on {format_long_date(incident.started_at, tz)}"
        f"{affecting}, lasting {format_duration(incident.duration())}."
    )


def format_span(seconds: int) -> str:
    """A whole number of seconds: 56s under a minute, else as format_duration (1h 0m)."""
    if seconds < 60:
        return f"{seconds}s"
    return format_duration(timedelta(seconds=seconds))


def describe_day(day, with_related: bool = True) -> str:
    """One day of a component's uptime as a sentence: for tooltips and screen readers.

    It reads the same whole seconds (day.spans) as the bar's colour (day.level), so a day painted red
    always says how long, even when that was 56 seconds."""
    when = format_day(day.date)
    if not day.has_data:
        return f"{when}: No data exists for this day."
    names = {"major": "major outage", "partial": "partial outage", "degraded": "degraded performance"}
    parts = [f"{format_span(seconds)} {names.get(kind, kind)}" for kind, seconds in day.spans]
    if not parts:
        return f"{when}: No downtime recorded on this day."
    related = f" Related: {join_english(list(day.incidents.values()))}." if day.incidents and with_related else ""
    return f"{when}: {', '.join(parts)}.{related}"


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
        result.append((f"{first:%B} {year}", [cells[i : i + 7] for i in range(0, len(cells), 7)]))
    return result


def format_window(start: datetime, end: datetime, tz: ZoneInfo) -> str:
    """Nov 26, 2026 02:00 - 04:00 CET, or with both dates when it spans days."""
    a, b = local(start, tz), local(end, tz)
    if a.date() == b.date():
        return f"{format_day(a.date())} {a:%H:%M} - {b:%H:%M} {b.tzname()}"
    return f"{format_day(a.date())} {a:%H:%M} {a.tzname()} - {format_day(b.date())} {b:%H:%M} {b.tzname()}"


def maintenance_summary(maintenance, page) -> str:
    return f"Scheduled for {format_window(maintenance.scheduled_for, maintenance.scheduled_until, page.tz)}."


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
