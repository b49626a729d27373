"""The 90-day uptime bar of one component on the status page, drawn compactly.

Most days look the same, so the bar is one SVG path per colour (a day is one unit of the viewBox, its
bar drawn 0.7 wide by a pattern from the page's sprite), not one element per day: a few elements per component
whatever the history. The days with an outage or degraded performance are spelled out below the bar in a
<details> list, so their sentences reach mouse, touch, keyboard and screen readers alike; the bar itself is an
image with a text summary.
"""

from itertools import groupby

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from incidents.presentation import describe_day, format_percent

LEVELS = ("ok", "nodata", "degraded", "partial", "major")  # drawn in this order: the worst on top


def runs(levels: list[str]) -> list[tuple[str, int, int]]:
    """Consecutive equal levels as (level, first day index, number of days)."""
    found, first = [], 0
    for level, group in groupby(levels):
        count = len(list(group))
        found.append((level, first, count))
        first += count
    return found


def _paths(levels: list[str]) -> SafeString:
    """One path per level. The days with data are first all drawn "ok" as one run, the others on top."""
    by_level: dict[str, list[str]] = {}
    with_data = [index for index, level in enumerate(levels) if level != "nodata"]
    drawn = [("ok", with_data[0], len(levels) - with_data[0])] if with_data else []
    drawn += [run for run in runs(levels) if run[0] != "ok"]
    for level, first, count in drawn:
        by_level.setdefault(level, []).append(f"M{first} 0h{count}v1h-{count}z")
    return mark_safe(  # noqa: S308 - class names from LEVELS and numbers only
        "".join(f'<path class="{level}" d="{"".join(by_level[level])}"/>' for level in LEVELS if level in by_level)
    )


def days_summary(levels: list[str], days: int) -> str:
    """What the list under the bar holds, in the words of the uptime figure: degraded performance is not
    downtime (it does not count against uptime), so it is named apart from outages."""
    outages = sum(level in ("partial", "major") for level in levels)
    degraded = levels.count("degraded")
    if not outages and not degraded:
        return ngettext("No outages in the last day", "No outages in the last %(days)d days", days) % {"days": days}
    if not degraded:
        return ngettext("%(count)d day with an outage", "%(count)d days with an outage", outages) % {"count": outages}
    if not outages:
        return ngettext(
            "%(count)d day with degraded performance", "%(count)d days with degraded performance", degraded
        ) % {"count": degraded}
    outage_days = ngettext("%(count)d day with an outage", "%(count)d days with an outage", outages)
    return ngettext(
        "%(outages)s, %(count)d with degraded performance", "%(outages)s, %(count)d with degraded performance", degraded
    ) % {"outages": outage_days % {"count": outages}, "count": degraded}


def bar_html(component, uptime, *, days: int, detail_url: str) -> SafeString:
    """The bar, its legend and the list of days with an outage or degraded performance, for one component."""
    levels = [day.level for day in uptime.days]
    down = [day for day, level in zip(uptime.days, levels, strict=True) if level not in ("ok", "nodata")][::-1]
    percent = (
        _("%(percent)s %% uptime") % {"percent": format_percent(uptime.percent)} if uptime.percent else _("No data yet")
    )
    count = days_summary(levels, days) if uptime.percent else _("No data yet")
    label = ngettext(
        "%(component)s: %(percent)s over the last day; %(count)s.",
        "%(component)s: %(percent)s over the last %(days)d days; %(count)s.",
        days,
    ) % {
        "component": component.name,
        "percent": percent if uptime.percent else _("no data yet"),
        "days": days,
        "count": count,
    }
    # The incidents' names are on the uptime page, with links: here, the days alone keep the page light.
    items = format_html_join("", "<li>{}</li>", ((describe_day(day, with_related=False),) for day in down))
    return format_html(
        '<div class="uptime">'
        '<svg class="bars" viewBox="0 0 {} 1" preserveAspectRatio="none" role="img" aria-label="{}">{}</svg>'
        '<p class="uptime-legend" data-from="{}" data-to="{}">{}</p>'
        '<details class="uptime-days"><summary>{}</summary>{}<a href="{}">{}</a></details>'
        "</div>",
        len(levels),
        label,
        _paths(levels),
        ngettext("%(days)d day ago", "%(days)d days ago", days) % {"days": days},
        _("Today"),
        percent,
        count,
        format_html("<ul>{}</ul>", items) if down else "",
        detail_url,
        _("Day-by-day uptime of %(component)s") % {"component": component.name},
    )
