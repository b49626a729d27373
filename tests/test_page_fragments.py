"""The status page reuses the component rows and past incidents it rendered (incidents.public_cache.fragments),
and every write still shows on the next render: a status change, an edited update, a deleted incident,
rebuild_uptime, a renamed component, a new local day, and the uptime figure moving with the clock."""

import io
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from bs4 import BeautifulSoup
from django.core.management import call_command

from incidents import page_services, services
from incidents.choices import ComponentStatus as S
from incidents.models import ComponentStatusChange
from incidents.public_cache import fragments
from tests.surge_page import bar_levels

NOW = datetime(2026, 6, 10, 12, 0, tzinfo=UTC)
COMPONENT_ROW = "status/_component.html"


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def site(page, clock):
    """Two components in service for 60 days; API had a 2-hour major outage yesterday (a resolved incident)."""
    api = services.component_create(page=page, name="API", start_date=date(2026, 4, 11))
    web = services.component_create(page=page, name="Web", start_date=date(2026, 4, 11))
    incident = services.incident_create(
        page=page, name="API down", body="Requests **fail**.", components={api: S.MAJOR_OUTAGE},
        display_at=NOW - timedelta(days=1, hours=3),
    )  # fmt: skip
    services.incident_post_update(
        incident=incident, status="resolved", body="Fixed.", components={api: S.OPERATIONAL},
        display_at=NOW - timedelta(days=1, hours=1),
    )  # fmt: skip
    return api, web, incident


def home(client):
    response = client.get("/")
    assert response.status_code == 200
    rows = [t.name for t in response.templates].count(COMPONENT_ROW)
    return BeautifulSoup(response.content, "html.parser"), rows


def row(soup, name):
    return next(li for li in soup.select("li.component") if li.select_one(".component-name").get_text() == name)


def test_a_status_change_shows_and_only_its_row_is_rendered_again(client, site, clock):
    api, web, _ = site
    soup, rendered = home(client)
    assert rendered == 2
    services.component_set_status(component=web, status=S.PARTIAL_OUTAGE)
    clock.move_to(NOW + timedelta(minutes=5))
    soup, rendered = home(client)
    assert rendered == 1  # API's row was reused
    assert row(soup, "Web").select_one(".status").get_text() == "Partial Outage"
    assert bar_levels(row(soup, "Web").select_one("svg.bars"))[-1] == "partial"
    assert row(soup, "API").select_one(".status").get_text() == "Operational"


def test_an_edited_update_and_a_renamed_incident_show(client, site):
    _, _, incident = site
    home(client)
    first = incident.updates.order_by("id").first()
    services.incident_update_edit(update=first, body="Requests **time out** for some customers.")
    assert "time out for some customers" in home(client)[0].select_one(".past-incident").get_text()
    services.incident_edit(incident=incident, name="API unavailable")
    listing = home(client)[0].select_one(".past-incident").get_text()
    assert "API unavailable" in listing
    assert "API down" not in listing


def test_a_deleted_incident_leaves_the_page(client, site):
    _, _, incident = site
    assert home(client)[0].select(".past-incident")
    services.incident_delete(incident=incident)
    assert not home(client)[0].select(".past-incident")


def test_rebuilt_rollups_show(client, site):
    api, _, _ = site
    assert bar_levels(row(home(client)[0], "API").select_one("svg.bars"))[-4] == "ok"
    # An older status history imported in bulk (no service ran; API's latest change stays the same), then the
    # rollups rebuilt from it.
    ComponentStatusChange.objects.bulk_create(
        [
            ComponentStatusChange(component=api, old_status=S.OPERATIONAL, new_status=S.MAJOR_OUTAGE,
                                  changed_at=NOW - timedelta(days=3, hours=2)),
            ComponentStatusChange(component=api, old_status=S.MAJOR_OUTAGE, new_status=S.OPERATIONAL,
                                  changed_at=NOW - timedelta(days=3)),
        ]
    )  # fmt: skip
    call_command("rebuild_uptime", stdout=io.StringIO())
    soup, rendered = home(client)
    assert rendered == 1
    assert bar_levels(row(soup, "API").select_one("svg.bars"))[-4] == "major"
    assert "Jun 7, 2026: 2h 0m major outage" in row(soup, "API").select_one("details.uptime-days").get_text()


def test_a_renamed_component_shows(client, site):
    api, _, _ = site
    home(client)
    page_services.component_update(component=api, name="Public API")
    soup, rendered = home(client)
    assert rendered == 1
    assert row(soup, "Public API")


def test_a_new_local_day_moves_the_bars(client, site, clock):
    levels = bar_levels(row(home(client)[0], "API").select_one("svg.bars"))
    assert levels[-2:] == ["major", "ok"]
    clock.move_to(NOW + timedelta(days=1))
    levels = bar_levels(row(home(client)[0], "API").select_one("svg.bars"))
    assert levels[-3:] == ["major", "ok", "ok"]


def test_a_reused_row_shows_the_uptime_figure_of_the_moment(client, page, site, clock):
    new = services.component_create(page=page, name="New", start_date=date(2026, 6, 9))
    services.component_set_status(component=new, status=S.MAJOR_OUTAGE, at=NOW - timedelta(hours=1))
    services.component_set_status(component=new, status=S.OPERATIONAL, at=NOW - timedelta(minutes=30))
    labels = [r.select_one("svg.bars")["aria-label"] for r in home(client)[0].select("li.component")]
    assert labels[2].startswith("New: 98.61 % uptime")  # 30 minutes down out of 36 hours
    clock.move_to(NOW + timedelta(hours=11))  # today's counted time grew, and New's figure with it
    reused, rendered = home(client)
    assert rendered == 1  # New's row; API's and Web's figures (99.86, 100.00) did not move: they are reused
    fragments.pieces.clear()
    services.page_changed(page.pk)  # the same minute, rendered from scratch
    fresh, rendered = home(client)
    assert rendered == 3
    labels = [r.select_one("svg.bars")["aria-label"] for r in reused.select("li.component")]
    assert labels == [r.select_one("svg.bars")["aria-label"] for r in fresh.select("li.component")]
    assert labels[2].startswith("New: 98.94 % uptime")  # 30 minutes out of 47 hours
