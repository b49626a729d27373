"""Benchmark: 90-day uptime bars for 100 components from 100,000 status-change rows.

Target (issue): at most two queries and under 100 ms for the computation, cached by the page version.
Runs against a throwaway test database: SQLite by default, PostgreSQL when DATABASE_URL is set.

    .venv/bin/python bench/uptime.py [--components 100] [--changes 100000] [--repeat 5]
"""

import argparse
import os
import random
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "statuspage.settings")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_databases, teardown_databases  # noqa: E402
from django.utils import timezone  # noqa: E402

STATUSES = ["operational", "degraded_performance", "partial_outage", "major_outage", "under_maintenance"]


def populate(components: int, changes: int):
    from incidents import services
    from incidents.models import Component, ComponentStatusChange

    page = services.page_create(name="Bench", time_zone="Europe/Paris")
    start = (timezone.now() - timedelta(days=120)).date()
    rows = [Component(page=page, name=f"Component {n}", position=n, start_date=start) for n in range(components)]
    created = Component.objects.bulk_create(rows)
    now = timezone.now()
    per = changes // components
    batch = []
    rng = random.Random(42)
    for component in created:
        moments = sorted(now - timedelta(seconds=rng.uniform(0, 89 * 86400)) for _ in range(per))
        old = "operational"
        for moment in moments:
            new = rng.choice([s for s in STATUSES if s != old])
            batch.append(ComponentStatusChange(component=component, old_status=old, new_status=new, changed_at=moment))
            old = new
        Component.objects.filter(pk=component.pk).update(status=old)
    ComponentStatusChange.objects.bulk_create(batch, batch_size=5000)
    # A bulk import bypasses the services: build the rollups from the history, as an import must.
    from incidents.uptime_rollups import rebuild_component_days

    started = time.perf_counter()
    rebuild_component_days(list(Component.objects.filter(page=page).select_related("page")))
    print(f"rollups rebuilt from the history in {time.perf_counter() - started:.1f} s (once, at import)")
    return page


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--components", type=int, default=100)
    parser.add_argument("--changes", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=21)
    args = parser.parse_args()

    from django.test.utils import setup_test_environment

    setup_test_environment()
    old_config = setup_databases(verbosity=0, interactive=False)
    try:
        from incidents.models import Component
        from incidents.uptime import component_uptimes

        page = populate(args.components, args.changes)

        def bars():
            components = list(Component.objects.filter(page=page).select_related("status_change__incident"))
            return component_uptimes(components, page.tz, timezone.now())

        with CaptureQueriesContext(connection) as ctx:  # counted once, apart: capturing slows each query
            result = bars()
        queries = len(ctx.captured_queries)
        timings = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            result = bars()
            timings.append((time.perf_counter() - started) * 1000)
        assert len(result) == args.components
        assert all(len(r.days) == 90 for r in result)
        print(f"database: {connection.vendor}")
        print(f"components: {args.components}, status-change rows: {args.changes}, days: 90")
        print(f"queries: {queries}")
        from incidents.uptime_replay import history_uptimes

        started = time.perf_counter()
        history_uptimes([r.component for r in result], page.tz, timezone.now())
        print(f"for comparison, replaying the raw history: {(time.perf_counter() - started) * 1000:.0f} ms")
        print(f"time (ms): median {statistics.median(timings):.1f}, best {min(timings):.1f}, worst {max(timings):.1f}")
        met = queries <= 2 and statistics.median(timings) < 100
        print(f"target: <= 2 queries and < 100 ms -> {'met' if met else 'NOT met'}")
    finally:
        teardown_databases(old_config, verbosity=0)


if __name__ == "__main__":
    main()
