"""Uptime history computed from the component status history (ComponentStatusChange rows).

Time-weighted, per day in the page's time zone: a major outage counts in full, a partial outage at
UPTIME_PARTIAL_WEIGHT (30 % by default), degraded performance not at all, and time under maintenance
is left out of the day altogether. Days before a component existed have no data. A day is cut at the
page's local midnights, so a day can last 23 or 25 hours across a daylight-saving change.

Cost: two queries whatever the size of the history (the components, which the caller usually has,
and one query for every change in the window), then one pass over the rows.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection
from django.db.models import FloatField, Func

from incidents.choices import ComponentStatus as S
from incidents.models import ComponentStatusChange

DEFAULT_DAYS = 90


def partial_weight() -> float:
    return getattr(settings, "UPTIME_PARTIAL_WEIGHT", 0.3)


@dataclass
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
    def level(self) -> str:
        """For the colour of the bar: nodata, ok, degraded, partial, major."""
        if self.uptime is None:
            return "nodata"
        if self.major:
            return "major"
        if self.partial:
            return "partial"
        if self.degraded:
            return "degraded"
        return "ok"


@dataclass
class ComponentUptime:
    component: object
    days: list[Day]

    @property
    def uptime(self) -> float | None:
        counted = sum(d.seconds for d in self.days if d.has_data)
        if counted <= 0:
            return None
        return max(0.0, 1 - sum(d.downtime for d in self.days if d.has_data) / counted)

    @property
    def percent(self) -> str | None:
        """The uptime over the window, as "99.98"."""
        value = self.uptime
        return None if value is None else f"{value * 100:.2f}"


def day_bounds(day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """A local day's start and end, in UTC. (Aware datetimes sharing a ZoneInfo subtract as wall-clock
    times, which would make every day 24 hours long; in UTC a day across a DST change lasts 23 or 25.)"""
    start = datetime.combine(day, time.min, tzinfo=tz).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=tz).astimezone(UTC)
    return start, end


def _existed_from(component, tz: ZoneInfo, changes) -> float:
    """Its start date; else when it was created, or its first recorded change if earlier (a backfill). Epoch seconds."""
    if component.start_date:
        return datetime.combine(component.start_date, time.min, tzinfo=tz).timestamp()
    created = component.created_at.timestamp()
    return min(created, changes[0][0]) if changes else created


class Epoch(Func):
    """Seconds since 1970 as a float: far cheaper to fetch by the 100,000 than datetimes."""

    output_field = FloatField()

    def as_postgresql(self, compiler, connection, **extra):
        return self.as_sql(compiler, connection, template="EXTRACT(EPOCH FROM %(expressions)s)::float8", **extra)

    def as_sqlite(self, compiler, connection, **extra):
        # Whole seconds, plus the milliseconds that %f adds to them (julianday would lose microseconds).
        template = (
            "(CAST(strftime('%%%%s', %(expressions)s) AS REAL)"
            " + strftime('%%%%f', %(expressions)s) - CAST(strftime('%%%%S', %(expressions)s) AS REAL))"
        )
        return self.as_sql(compiler, connection, template=template, **extra)


def component_uptimes(components, tz: ZoneInfo, now: datetime, days: int = DEFAULT_DAYS) -> list[ComponentUptime]:
    """Per-day uptime over the last `days` days (today included) for each component, in one query."""
    now = now.astimezone(UTC)
    today = now.astimezone(tz).date()
    first_day = today - timedelta(days=days - 1)
    bounds = [day_bounds(first_day + timedelta(days=n), tz) for n in range(days)]
    components = list(components)
    query = (
        ComponentStatusChange.objects.filter(component__in=[c.pk for c in components], changed_at__gte=bounds[0][0])
        .annotate(at=Epoch("changed_at"))
        .order_by("component_id", "changed_at", "id")
        .values_list("component_id", "at", "old_status", "new_status", "incident__code", "incident__name")
    )
    # The ORM writes the SQL; the rows are read raw, since per-row converters would double the cost here.
    sql, params = query.query.sql_with_params()
    changes = defaultdict(list)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for row in cursor.fetchall():
            changes[row[0]].append(row[1:])
    starts = [start.timestamp() for start, _ in bounds]
    ends = [end.timestamp() for _, end in bounds]
    dates = [start.astimezone(tz).date() for start, _ in bounds]
    return [_one(c, changes.get(c.pk, []), starts, ends, dates, tz, now.timestamp()) for c in components]


def _one(component, changes, starts, ends, dates, tz, now) -> ComponentUptime:
    """Walk the component's segments once; only time not operational needs distributing over days."""
    existed = _existed_from(component, tz, changes)
    count = len(starts)
    spent = [[0.0, 0.0, 0.0, 0.0] for _ in range(count)]  # major, partial, degraded, maintenance
    related: list[dict] = [{} for _ in range(count)]

    status = changes[0][1] if changes else component.status
    code = name = None
    cursor = starts[0]
    index = 0  # segments come in time order, so the day they start on only moves forward
    for at, _old, new, next_code, next_name in [*changes, (now, None, None, None, None)]:
        slot = SLOTS.get(status)
        if slot is not None and at > cursor:
            start = cursor
            while index < count and ends[index] <= start:
                index += 1
            day = index
            while start < at and day < count:
                stop = at if at < ends[day] else ends[day]
                spent[day][slot] += stop - start
                if code:
                    related[day][code] = name
                start = stop
                day += 1
        if at > cursor:
            cursor = at
        status = new
        code, name = (next_code, next_name) if new != S.OPERATIONAL else (None, None)

    result = []
    for index in range(count):
        lo, hi = max(starts[index], existed), min(ends[index], now)
        if hi <= lo:
            result.append(Day(date=dates[index], has_data=False))
            continue
        major, partial, degraded, maintenance = spent[index]
        if existed > starts[index]:
            # Part of the first day came before the component existed: count only what followed.
            major, partial, degraded, maintenance = _clip(changes, component, starts[index], lo, hi)
        result.append(
            Day(
                date=dates[index],
                seconds=(hi - lo) - maintenance,
                major=major,
                partial=partial,
                degraded=degraded,
                maintenance=maintenance,
                incidents=related[index],
            )
        )
    return ComponentUptime(component=component, days=result)


SLOTS = {S.MAJOR_OUTAGE: 0, S.PARTIAL_OUTAGE: 1, S.DEGRADED_PERFORMANCE: 2, S.UNDER_MAINTENANCE: 3}


def _clip(changes, component, day_start, lo, hi) -> list[float]:
    """Time per kind within [lo, hi) of one day (the rare day on which a component came into service)."""
    spent = [0.0, 0.0, 0.0, 0.0]
    status = changes[0][1] if changes else component.status
    cursor = day_start
    for at, _old, new, *_ in [*changes, (hi, None, None)]:
        start, end = max(cursor, lo), min(at, hi)
        slot = SLOTS.get(status)
        if slot is not None and end > start:
            spent[slot] += end - start
        cursor, status = max(cursor, at), new
        if cursor >= hi:
            break
    return spent
