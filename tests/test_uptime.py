"""Uptime arithmetic on hand-computed cases, and the pages that show it."""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from bs4 import BeautifulSoup

from incidents import services
from incidents.choices import ComponentStatus as S
from incidents.models import Component
from incidents.uptime import component_uptimes

PARIS = ZoneInfo("Europe/Paris")
HOUR = 3600


def paris(*args) -> datetime:
    return datetime(*args, tzinfo=PARIS)


@pytest.fixture
def paris_page(db):
    return services.page_create(name="Acme", time_zone="Europe/Paris")


def set_status(component, status, at):
    with time_machine.travel(at, tick=False):
        services.component_set_status(component=component, status=status, at=at)


def days_by_date(component, tz, now, days=90):
    component = Component.objects.get(pk=component.pk)
    (result,) = component_uptimes([component], tz, now, days=days)
    return result, {d.date: d for d in result.days}


def test_a_major_outage_across_a_daylight_saving_change_splits_at_local_midnights(paris_page):
    api = services.component_create(page=paris_page, name="API", start_date=date(2025, 1, 1))
    # Saturday 22:00 CET to Monday 01:00 CEST; Sunday 30 March 2025 lasts 23 hours in Paris.
    set_status(api, S.MAJOR_OUTAGE, paris(2025, 3, 29, 22, 0))
    set_status(api, S.OPERATIONAL, paris(2025, 3, 31, 1, 0))
    result, days = days_by_date(api, PARIS, paris(2025, 4, 2, 12, 0), days=10)
    saturday, sunday, monday = days[date(2025, 3, 29)], days[date(2025, 3, 30)], days[date(2025, 3, 31)]
    assert (saturday.seconds, saturday.major) == (24 * HOUR, 2 * HOUR)
    assert (sunday.seconds, sunday.major) == (23 * HOUR, 23 * HOUR)
    assert (monday.seconds, monday.major) == (24 * HOUR, 1 * HOUR)
    assert saturday.uptime == pytest.approx(22 / 24)
    assert sunday.uptime == 0
    assert monday.uptime == pytest.approx(23 / 24)
    assert days[date(2025, 4, 1)].uptime == 1
    # Ten days from 24 March 00:00 to 2 April 12:00 Paris time: 9.5 days less the lost hour.
    counted = 9 * 24 * HOUR + 12 * HOUR - HOUR
    assert result.uptime == pytest.approx(1 - 26 * HOUR / counted)
    assert result.percent == f"{(1 - 26 * HOUR / counted) * 100:.2f}"


def test_partial_outage_counts_thirty_percent_degraded_nothing_and_maintenance_is_left_out(paris_page):
    api = services.component_create(page=paris_page, name="API", start_date=date(2025, 1, 1))
    set_status(api, S.UNDER_MAINTENANCE, paris(2025, 6, 10, 0, 0))
    set_status(api, S.PARTIAL_OUTAGE, paris(2025, 6, 10, 4, 0))  # 4 h maintenance
    set_status(api, S.DEGRADED_PERFORMANCE, paris(2025, 6, 10, 14, 0))  # 10 h partial
    set_status(api, S.OPERATIONAL, paris(2025, 6, 10, 20, 0))  # 6 h degraded
    _, days = days_by_date(api, PARIS, paris(2025, 6, 12, 9, 0), days=5)
    day = days[date(2025, 6, 10)]
    assert (day.maintenance, day.partial, day.degraded, day.major) == (4 * HOUR, 10 * HOUR, 6 * HOUR, 0)
    assert day.seconds == 20 * HOUR
    assert day.uptime == pytest.approx(1 - 3 / 20)
    assert day.level == "partial"


def test_the_partial_outage_weight_is_configurable(paris_page, settings):
    settings.UPTIME_PARTIAL_WEIGHT = 0.5
    api = services.component_create(page=paris_page, name="API", start_date=date(2025, 1, 1))
    set_status(api, S.PARTIAL_OUTAGE, paris(2025, 6, 10, 0, 0))
    set_status(api, S.OPERATIONAL, paris(2025, 6, 10, 12, 0))
    _, days = days_by_date(api, PARIS, paris(2025, 6, 11, 9, 0), days=3)
    assert days[date(2025, 6, 10)].uptime == pytest.approx(0.75)


def test_days_before_a_component_existed_have_no_data(paris_page):
    api = services.component_create(page=paris_page, name="API", start_date=date(2025, 6, 9))
    result, days = days_by_date(api, PARIS, paris(2025, 6, 11, 12, 0), days=5)
    assert [d.has_data for d in result.days] == [False, False, True, True, True]
    assert days[date(2025, 6, 8)].uptime is None
    assert days[date(2025, 6, 11)].seconds == 12 * HOUR  # today counts up to now


def test_an_outage_still_going_on_counts_up_to_now(db):
    page = services.page_create(name="UTC page")
    api = services.component_create(page=page, name="API", start_date=date(2025, 1, 1))
    set_status(api, S.MAJOR_OUTAGE, datetime(2025, 6, 11, 6, 0, tzinfo=UTC))
    _, days = days_by_date(api, UTC, datetime(2025, 6, 11, 9, 0, tzinfo=UTC), days=2)
    assert days[date(2025, 6, 11)].major == 3 * HOUR
    assert days[date(2025, 6, 11)].uptime == pytest.approx(6 / 9)


def test_home_page_shows_bars_with_a_sentence_for_every_day(client, db):
    with time_machine.travel(datetime(2025, 6, 12, 12, 0, tzinfo=UTC), tick=False):
        page = services.page_create(name="Acme")
        api = services.component_create(page=page, name="API", start_date=date(2025, 5, 1))
        services.component_create(page=page, name="Hidden bars", showcase=False)
        incident = services.incident_create(
            page=page, name="API down", body="a", components={api: S.MAJOR_OUTAGE},
            display_at=datetime(2025, 6, 10, 10, 0, tzinfo=UTC),
        )  # fmt: skip
        services.incident_post_update(
            incident=incident, status="resolved", body="b", components={api: S.OPERATIONAL},
            display_at=datetime(2025, 6, 10, 16, 0, tzinfo=UTC),
        )  # fmt: skip
        html = BeautifulSoup(client.get("/").content, "html.parser")
        uptime_html = BeautifulSoup(client.get("/uptime").content, "html.parser")
    bars = html.select(".uptime svg.bars")
    assert len(bars) == 1
    titles = [t.get_text() for t in bars[0].select("rect title")]
    assert len(titles) == 90
    assert titles[-1] == "Jun 12, 2025: No downtime recorded on this day."
    assert titles[-3] == "Jun 10, 2025: 6h 0m major outage. Related: API down."
    assert titles[0] == "Mar 15, 2025: No data exists for this day."
    legend = " ".join(html.select_one(".uptime-legend").get_text(" ").split())
    counted_days = 31 + 11.5  # 1 May to 12 June noon
    assert legend == f"90 days ago {(1 - 6 / (counted_days * 24)) * 100:.2f} % uptime Today"
    assert "aria-label" in str(bars[0])
    notes = [" ".join(li.get_text(" ").split()) for li in uptime_html.select(".day-notes li")]
    assert notes == ["Jun 10, 2025: 6h 0m major outage. Related: API down"]
    assert uptime_html.select_one(f".day-notes a[href='/incidents/{incident.code}']")
    cells = uptime_html.select("table.calendar td.major")
    assert [c.select_one(".n").get_text() for c in cells] == ["10"]
