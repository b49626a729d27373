"""Uptime replayed from the raw status history (ComponentStatusChange rows): the reference computation.

rebuild_component_days stores its results as rollups (incidents/uptime_rollups.py), and the tests check that the
rollups the services keep give exactly the same days as this replay. The bars read the rollups (incidents/uptime.py).
"""

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from django.db import connection
from django.db.models import FloatField, Func

from incidents.choices import ComponentStatus as S
from incidents.models import ComponentStatusChange
from incidents.uptime import DEFAULT_DAYS, SLOTS, ComponentUptime, Day, _existed_from, day_bounds


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


def history_uptimes(components, tz: ZoneInfo, now: datetime, days: int = DEFAULT_DAYS) -> list[ComponentUptime]:
    """Per-day uptime over the last `days` days, replayed from the raw status history (one query).

    The reference computation: rebuild_component_days stores its results, and the tests check that the
    rollups the services keep give exactly the same days.
    """
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
    existed = _existed_from(component, tz)
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
