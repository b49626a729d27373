"""The status page's component rows (name, status, uptime bar), each rendered once per process and reused.

Computing 90 days of uptime and drawing the bar of every component was most of a render after a write. A row
is a function of its component's fields, its rollup rows in the window, the page's zone and uptime address,
the local day and, through the uptime figure only, the clock. So each row is kept (public_cache.fragments)
under all of those: a status change, an edited or deleted incident that rewrites the rollups, rebuild_uptime,
a renamed component, a new time zone or a new local day each make a new key. The rollup rows are read on every
render (one light query), so no writer has to remember to invalidate anything.

The clock: an operational component's days do not change during the day, only its uptime figure does (today's
counted time grows). Its counted and downtime seconds are kept beside the row, so the figure is recomputed at
each render, and the row is keyed on that figure too. A component in another status has an open segment that
grows with the clock: its row is computed at each render (there are few such rows).
"""

from django.template import loader

from incidents.presentation import local
from incidents.public_cache import fragments
from incidents.uptime import (
    DEFAULT_DAYS,
    SLOTS,
    component_uptimes,
    first_day_of,
    partial_weight,
    percent_of,
    read_rollups,
    uptime_of,
)

TEMPLATE = "status/_component.html"
_FIELDS = ("pk", "code", "name", "description", "status", "showcase", "status_change_id", "start_date", "created_at")


def component_rows_html(page, components, now, days: int = DEFAULT_DAYS) -> None:
    """Set `.html` on each component: its row (<li>) on the status page, with its uptime bar if showcased."""
    tz = page.tz
    showcased = [c for c in components if c.showcase]
    rollups = read_rollups([c.pk for c in showcased], first_day_of(tz, now, days)) if showcased else {}
    shared = (page.time_zone, local(now, tz).date(), days, page.public_url("uptime"), partial_weight())
    now_ts = now.timestamp()
    missing = []
    for component in components:
        key = (*(getattr(component, name) for name in _FIELDS), rollups.get(component.pk), shared)
        component.html = None
        if not component.showcase:
            component.html = fragments.get(key)
        elif component.status not in SLOTS:  # operational: see the module's docstring
            totals = fragments.get(("totals", *key))
            if totals is not None:
                base, downtime, grows = totals
                percent = percent_of(uptime_of(base + now_ts if grows else base, downtime))
                component.html = fragments.get((*key, percent))
        if component.html is None:
            missing.append((component, key))
    if not missing:
        return
    to_compute = [c for c, _ in missing if c.showcase]
    uptimes = component_uptimes(to_compute, tz, now, days, rows=rollups, names=False) if to_compute else []
    by_component = {u.component.pk: u for u in uptimes}
    template = loader.get_template(TEMPLATE)
    for component, key in missing:
        component.uptime = by_component.get(component.pk)
        component.html = template.render({"component": component, "page": page, "uptime_days": days})
        if not component.showcase:
            fragments.put(key, component.html)
        elif component.status not in SLOTS and component.uptime.percent is not None:
            counted, downtime = component.uptime.totals
            grows = component.uptime.days[-1].has_data  # today's counted time grows with the clock
            fragments.put(("totals", *key), (counted - now_ts if grows else counted, downtime, grows))
            fragments.put((*key, component.uptime.percent), component.html)
