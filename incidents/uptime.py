"""Uptime history computed from the component status history (ComponentStatusChange rows).

Time-weighted, per day in the page's time zone: a major outage counts in full, a partial outage at
UPTIME_PARTIAL_WEIGHT (30 % by default), degraded performance not at all, and time under maintenance
is left out of the day altogether. Days before a component existed have no data. A day is cut at the
page's local midnights, so a day can last 23 or 25 hours across a daylight-saving change.

Cost: the bars read per-day rollups (ComponentDay, kept by the services as each change closes a
segment), so two queries whatever the size of the history: the components (with their latest change),
which the caller has, and the rollups of the window; then the still-open segment is added in Python.
The rollups refer to incidents by code; when the window has any, one more query reads their names as
they are now (a renamed incident shows its new name, a deleted one drops out, as in the replay).
history_uptimes (incidents/uptime_replay.py) replays the raw history instead: the reference, and how rollups
are rebuilt.
The rollups are written by incidents/uptime_rollups.py.
"""

import gc
import json
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property
from types import MappingProxyType
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection

from incidents.choices import ComponentStatus as S
from incidents.models import ComponentDay, ComponentStatusChange, Incident

DEFAULT_DAYS = 90


def partial_weight() -> float:
    return getattr(settings, "UPTIME_PARTIAL_WEIGHT", 0.3)


@dataclass(slots=True)
class Day:
    date: date
    has_data: bool = True
    seconds: float = 0.0  # counted time (the day, less maintenance and the time before the component existed)
    major: float = 0.0  # seconds of major outage
    partial: float = 0.0
    degraded: float = 0.0
    maintenance: float = 0.0
    incidents: dict = field(default_factory=dict)  # code -> name

    @property
    def downtime(self) -> float:
        """Weighted seconds of downtime."""
        return self.major + self.partial * partial_weight()

    @property
    def uptime(self) -> float | None:
        if not self.has_data or self.seconds <= 0:
            return None
        return max(0.0, 1 - self.downtime / self.seconds)

    @property
    def spans(self) -> list[tuple[str, int]]:
        """The day's time per kind, worst first, in whole seconds, leaving out kinds under a second.

        The one figure behind both the bar's colour (level) and its sentence (presentation.describe_day)."""
        kinds = (("major", self.major), ("partial", self.partial), ("degraded", self.degraded))
        kinds += (("maintenance", self.maintenance),)
        return [(kind, round(seconds)) for kind, seconds in kinds if round(seconds) >= 1]

    @property
    def level(self) -> str:
        """For the colour of the bar: nodata, ok, degraded, partial, major."""
        if not self.has_data or self.seconds <= 0:  # as uptime is None, without weighing the downtime
            return "nodata"
        for kind, seconds in (("major", self.major), ("partial", self.partial), ("degraded", self.degraded)):
            if round(seconds) >= 1:  # the same whole seconds as spans
                return kind
        return "ok"


@dataclass
class ComponentUptime:
    component: object
    days: list[Day]

    @cached_property
    def totals(self) -> tuple[float, float]:
        """Counted seconds and weighted seconds of downtime over the window."""
        weight, counted, downtime = partial_weight(), 0.0, 0.0
        for day in self.days:
            if day.has_data:
                counted += day.seconds
                downtime += day.major + day.partial * weight
        return counted, downtime

    @cached_property
    def uptime(self) -> float | None:
        return uptime_of(*self.totals)

    @cached_property
    def percent(self) -> str | None:
        return percent_of(self.uptime)


def uptime_of(counted: float, downtime: float) -> float | None:
    if counted <= 0:
        return None
    return max(0.0, 1 - downtime / counted)


def percent_of(value: float | None) -> str | None:
    """The uptime over the window, as "99.98"; never "100.00" when some downtime was counted (a 55-second
    partial outage rounds to 100.00, next to its orange day): then "99.99"."""
    if value is None:
        return None
    shown = f"{value * 100:.2f}"
    return "99.99" if shown == "100.00" and value < 1 else shown


def day_bounds(day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """A local day's start and end, in UTC. (Aware datetimes sharing a ZoneInfo subtract as wall-clock
    times, which would make every day 24 hours long; in UTC a day across a DST change lasts 23 or 25.)"""
    start = datetime.combine(day, time.min, tzinfo=tz).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=tz).astimezone(UTC)
    return start, end


def _existed_from(component, tz: ZoneInfo) -> float:
    """Since when the component has data: its start date (midnight, page time), else its creation. A history
    imported for the time before a component was created needs its start date set. Epoch seconds."""
    if component.start_date:
        return datetime.combine(component.start_date, time.min, tzinfo=tz).timestamp()
    return component.created_at.timestamp()


SLOTS = {S.MAJOR_OUTAGE: 0, S.PARTIAL_OUTAGE: 1, S.DEGRADED_PERFORMANCE: 2, S.UNDER_MAINTENANCE: 3}


# -- the rollups -------------------------------------------------------------------------------------------

ROLLUP_FIELDS = ("major", "partial", "degraded", "maintenance")
# A day with no rollup row: operational all day. Shared by those days; its map is read-only.
NOTHING = ((0.0, 0.0, 0.0, 0.0), MappingProxyType({}))


@contextmanager
def _no_cyclic_gc():
    """Building thousands of small, acyclic objects (the days) triggers the cyclic garbage collector over
    and over for nothing: pause it meanwhile (it cut the bars' time by a third in bench/uptime.py)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def component_uptimes(
    components, tz: ZoneInfo, now: datetime, days: int = DEFAULT_DAYS, *, rows: dict | None = None, names: bool = True
) -> list[ComponentUptime]:
    """Per-day uptime over the last `days` days (today included) from the rollups: one query.

    `rows` are the rollups as read_rollups returns them, if the caller read them already; `names=False` leaves
    the days' incident maps empty (the status page's bars do not name incidents), sparing their query.
    Only a component whose status counts (not operational) needs its current status change: those not
    loaded already (select_related) are loaded in one query.
    """
    components = list(components)
    if not components:
        return []  # a page without components (yet): nothing to read
    load_open_segments(components)
    with _no_cyclic_gc():
        return _component_uptimes(components, tz, now, days, rows, names)


def first_day_of(tz: ZoneInfo, now: datetime, days: int = DEFAULT_DAYS) -> date:
    return now.astimezone(tz).date() - timedelta(days=days - 1)


def read_rollups(component_ids, first_day: date) -> dict[int, tuple]:
    """The rollup rows of these components from `first_day` on, one query: component id -> ((day, major,
    partial, degraded, maintenance, incident codes), ...), hashable (codes as a tuple)."""
    query = ComponentDay.objects.filter(component__in=list(component_ids), day__gte=first_day).values_list(
        "component_id", "day", *ROLLUP_FIELDS, "incident_codes"
    )
    # The ORM writes the SQL; the rows are read raw (per-row converters and JSON decoding of the usually
    # empty incident lists would cost more than the rest of the work).
    sql, params = query.query.sql_with_params()
    found: dict[int, list] = defaultdict(list)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for component_id, day, major, partial, degraded, maintenance, codes in cursor.fetchall():
            if isinstance(codes, str):
                codes = json.loads(codes) if codes != "[]" else ()
            found[component_id].append((day, major, partial, degraded, maintenance, tuple(codes or ())))
    return {component_id: tuple(rows) for component_id, rows in found.items()}


def _component_uptimes(components, tz: ZoneInfo, now: datetime, days: int, rows, names) -> list[ComponentUptime]:
    now_utc = now.astimezone(UTC)
    first_day = first_day_of(tz, now_utc, days)
    bounds = [day_bounds(first_day + timedelta(days=n), tz) for n in range(days)]
    starts = [start.timestamp() for start, _ in bounds]
    ends = [end.timestamp() for _, end in bounds]
    dates = [first_day + timedelta(days=n) for n in range(days)]
    if rows is None:
        rows = read_rollups([c.pk for c in components], first_day)
    stored: dict[int, dict] = defaultdict(dict)  # days keyed as "YYYY-MM-DD"
    related = []  # (the day's incident map, to fill in, and the codes)
    for component_id, component_rows in rows.items():
        for day, major, partial, degraded, maintenance, codes in component_rows:
            incidents = {}
            if codes and names:
                related.append((incidents, codes))
            stored[component_id][str(day)] = ([major, partial, degraded, maintenance], incidents)
    _name_incidents(related, {c.page_id for c in components})
    now_ts = now_utc.timestamp()
    window = (starts, [min(end, now_ts) for end in ends], dates, [day.isoformat() for day in dates])
    return [_from_rollups(c, stored.get(c.pk, {}), window, tz, now_ts) for c in components]


def _name_incidents(related, page_ids: set[int]) -> None:
    """Fill each day's incident map (code -> name) with the incidents' names as they are now: one query.
    A deleted incident has no name to show (its status changes no longer point at it): it is left out.

    Read by page (an index) rather than by a list of every code in the window: sending hundreds of codes as
    parameters cost more than reading the page's few hundred names."""
    if related:
        codes = {code for _, day_codes in related for code in day_codes}
        many = len(codes) > 50
        rows = Incident.objects.filter(page_id__in=page_ids) if many else Incident.objects.filter(code__in=codes)
        names = dict(rows.values_list("code", "name"))
        for incidents, day_codes in related:
            incidents.update((code, names[code]) for code in day_codes if code in names)


def load_open_segments(components) -> None:
    """Load the current status change (and its incident's code and name) of the components whose status counts
    in the uptime, in one query; an operational component's open segment adds nothing, so it needs none."""
    wanted = {
        c.status_change_id: c
        for c in components
        if c.status in SLOTS and c.status_change_id and not type(c).status_change.is_cached(c)
    }
    if wanted:
        changes = ComponentStatusChange.objects.filter(pk__in=wanted).select_related("incident")
        changes = changes.only("changed_at", "incident__code", "incident__name")
        for change in changes:
            wanted[change.pk].status_change = change


def _open_segment(component, tz) -> tuple[float, str, tuple]:
    """Since when the component has had its current status, and the incident that set it."""
    if component.status not in SLOTS:
        return 0.0, component.status, (None, None)  # operational: the open segment adds nothing
    change = component.status_change
    if change is None:
        return _existed_from(component, tz), component.status, (None, None)
    incident = change.incident
    if incident is None or component.status == S.OPERATIONAL:
        return change.changed_at.timestamp(), component.status, (None, None)
    return change.changed_at.timestamp(), component.status, (incident.code, incident.name)


def _from_rollups(component, stored, window, tz, now) -> ComponentUptime:
    """One component's days: the stored figures, plus the still-open segment where it overlaps a day."""
    starts, his, dates, keys = window
    existed = _existed_from(component, tz)
    since, status, (code, name) = _open_segment(component, tz)
    since = max(since, existed)
    slot = SLOTS.get(status)
    result = []
    append = result.append
    for index, day in enumerate(dates):
        lo, hi = starts[index], his[index]
        if lo < existed:
            lo = existed
        if hi <= lo:
            append(Day(day, False))
            continue
        spent, incidents = stored.get(keys[index], NOTHING)
        if slot is not None and hi > since:
            spent, incidents = list(spent), dict(incidents)
            spent[slot] += hi - (lo if lo > since else since)
            if code:
                incidents[code] = name
        append(Day(day, True, (hi - lo) - spent[3], spent[0], spent[1], spent[2], spent[3], incidents))
    return ComponentUptime(component=component, days=result)
