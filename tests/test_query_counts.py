"""The home and incident pages cost a constant number of queries, however much the page holds."""

from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from incidents import services
from incidents.choices import ComponentStatus as S
from incidents.choices import IncidentStatus as I
from incidents.models import Incident, IncidentUpdate


def queries_for(client, path) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(path)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def add_components(page, count, start=0):
    group = services.component_group_create(page=page, name=f"Group {start}")
    for n in range(start, start + count):
        services.component_create(page=page, name=f"Component {n}", group=group if n % 2 else None,
                                  status=S.DEGRADED_PERFORMANCE if n % 7 == 0 else S.OPERATIONAL)  # fmt: skip


def add_incidents(page, count, components):
    """`count` resolved incidents spread over the last 15 days, three updates each, in bulk."""
    now = timezone.now()
    incidents = Incident.objects.bulk_create(
        Incident(
            page=page, name=f"Past {n}", status=I.RESOLVED, impact="minor",
            started_at=now - timedelta(hours=1 + (n % 340)), resolved_at=now - timedelta(minutes=30 + (n % 340) * 60),
            last_update_at=now - timedelta(minutes=30 + (n % 340) * 60),
        )
        for n in range(count)
    )  # fmt: skip
    IncidentUpdate.objects.bulk_create(
        IncidentUpdate(
            incident=incident,
            status=status,
            body=f"{status} body",
            display_at=incident.started_at + timedelta(minutes=m),
        )
        for incident in incidents
        for m, status in ((0, I.INVESTIGATING), (10, I.INVESTIGATING), (30, I.RESOLVED))
    )
    for incident in incidents:
        incident.components.add(*components)
    services.page_changed(page.pk)


@pytest.mark.parametrize("path", ["/", "/uptime"])
def test_pages_with_uptime_bars_do_not_grow_with_components_or_history(client, page, path):
    add_components(page, 5)
    few = queries_for(client, path)
    add_components(page, 95, start=5)
    for component in page.components.all()[:40]:
        for status in ("major_outage", "partial_outage", "operational"):
            services.component_set_status(component=component, status=status)
    many = queries_for(client, path)
    assert few == many
    assert many <= 9


@pytest.mark.parametrize("path", ["/", "/history"])
def test_public_pages_queries_do_not_grow_with_past_incidents(client, page, path):
    add_components(page, 3)
    components = list(page.components.all())
    add_incidents(page, 5, components)
    few = queries_for(client, path)
    add_incidents(page, 495, components)
    many = queries_for(client, path)
    assert few == many


def test_incident_page_queries_do_not_grow_with_updates_or_components(client, page):
    add_components(page, 5)
    components = list(page.components.all())
    small = services.incident_create(page=page, name="Small", body="a", components={components[0]: S.MAJOR_OUTAGE})
    few = queries_for(client, f"/incidents/{small.code}")
    add_components(page, 95, start=5)
    big = services.incident_create(
        page=page, name="Big", body="a", components=dict.fromkeys(page.components.all(), S.PARTIAL_OUTAGE)
    )
    for n in range(40):
        services.incident_post_update(incident=big, body=f"update {n}")
    many = queries_for(client, f"/incidents/{big.code}")
    assert few == many


def test_a_cached_page_costs_no_query(client, page):
    add_components(page, 5)
    with time_machine.travel(timezone.now(), tick=False):  # the cache key carries the minute
        queries_for(client, "/")
        assert queries_for(client, "/") == 0


def test_the_home_page_reads_the_names_of_the_incidents_in_its_bars_at_once(client, page):
    """The rollups refer to incidents; their names are read in one query, however many there are."""
    add_components(page, 3)
    components = list(page.components.all())

    def outages(count):
        for n in range(count):
            incident = services.incident_create(
                page=page, name=f"Outage {n}", body="a", components={components[n % 3]: S.MAJOR_OUTAGE}
            )
            services.incident_post_update(
                incident=incident, status=I.RESOLVED, body="b", components={components[n % 3]: S.OPERATIONAL}
            )

    outages(1)
    few = queries_for(client, "/")
    outages(12)
    many = queries_for(client, "/")
    assert few == many
