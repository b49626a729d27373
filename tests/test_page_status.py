"""The page's indicator and description, every row of the table in DESIGN.md, and group status."""

import pytest

from incidents import services
from incidents.choices import ComponentStatus as S
from incidents.choices import Impact
from incidents.status import page_status, worst_component_status

OP, DEG, PART, MAJ, MAINT = S.OPERATIONAL, S.DEGRADED_PERFORMANCE, S.PARTIAL_OUTAGE, S.MAJOR_OUTAGE, S.UNDER_MAINTENANCE


@pytest.mark.parametrize(
    ("statuses", "indicator", "description"),
    [
        ([OP, OP, OP], "none", "All Systems Operational"),
        ([], "none", "All Systems Operational"),
        # One component: Statuspage's documented case.
        ([MAJ], "critical", "Major System Outage"),
        ([PART], "major", "Partial System Outage"),
        ([DEG], "minor", "Degraded System Service"),
        ([MAINT], "maintenance", "Service Under Maintenance"),
        # Several components.
        ([MAJ, MAJ, MAJ], "critical", "Major System Outage"),
        ([MAJ, OP, OP], "major", "Partial System Outage"),
        ([MAJ, PART, DEG], "major", "Partial System Outage"),
        ([PART, PART], "major", "Partial System Outage"),
        ([PART, OP, OP], "minor", "Minor Service Outage"),
        ([PART, DEG, DEG], "minor", "Minor Service Outage"),
        ([DEG, DEG, DEG], "minor", "Degraded System Service"),
        ([DEG, OP, OP], "minor", "Partially Degraded Service"),
        ([DEG, MAINT], "minor", "Partially Degraded Service"),
        ([MAINT, OP], "maintenance", "Service Under Maintenance"),
    ],
)
def test_indicator_follows_the_component_table(statuses, indicator, description):
    status = page_status(statuses)
    assert (status.indicator, status.description) == (indicator, description)


@pytest.mark.parametrize(
    ("impact", "indicator", "description"),
    [
        (Impact.NONE, "none", "All Systems Operational"),
        (Impact.MINOR, "minor", "Minor Service Outage"),
        (Impact.MAJOR, "major", "Partial System Outage"),
        (Impact.CRITICAL, "critical", "Major System Outage"),
    ],
)
def test_an_open_incident_raises_the_indicator_to_at_least_its_impact(impact, indicator, description):
    status = page_status([OP, OP], [impact])
    assert (status.indicator, status.description) == (indicator, description)


def test_an_open_incident_never_lowers_the_indicator():
    assert page_status([MAJ, MAJ], [Impact.MINOR]).indicator == "critical"
    assert page_status([DEG, DEG], [Impact.MINOR]).description == "Degraded System Service"


def test_a_group_shows_its_most_degraded_child():
    assert worst_component_status([OP, DEG, MAINT]) == DEG
    assert worst_component_status([OP, MAJ, PART]) == MAJ
    assert worst_component_status([OP, MAINT]) == MAINT
    assert worst_component_status([]) == OP


def test_home_page_shows_the_indicator_of_its_components(client, page, make_component):
    make_component("API", status=PART)
    make_component("Web", status=OP)
    response = client.get("/")
    assert "Minor Service Outage" in response.content.decode()


def test_group_status_on_the_home_page_is_its_worst_child(client, page):
    group = services.component_group_create(page=page, name="Delivery")
    services.component_create(page=page, group=group, name="Push", status=OP)
    services.component_create(page=page, group=group, name="Email", status=MAJ)
    html = client.get("/").content.decode()
    summary = html.split("<summary>")[1].split("</summary>")[0]
    assert "Delivery" in summary
    assert "Major Outage" in summary
