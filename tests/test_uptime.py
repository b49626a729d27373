"""Uptime arithmetic on hand-computed cases, and the pages that show it."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from bs4 import BeautifulSoup

from incidents import services
from incidents.choices import ComponentStatus as S
from incidents.models import Component, Incident
from incidents.uptime import component_uptimes
from tests.surge_page import bar_levels

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


def test_home_page_shows_bars_and_spells_out_every_day_with_downtime(client, db):
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
    levels = bar_levels(bars[0])
    assert len(levels) == 90
    # 15 March to 30 April: no data; from 1 May: ok, but for 10 June.
    assert levels == ["nodata"] * 47 + ["ok"] * 40 + ["major", "ok", "ok"]
    counted_days = 31 + 11.5  # 1 May to 12 June noon
    percent = f"{(1 - 6 / (counted_days * 24)) * 100:.2f}"
    assert bars[0]["aria-label"] == f"API: {percent} % uptime over the last 90 days; 1 day with an outage."
    legend = html.select_one(".uptime-legend")
    assert (legend["data-from"], legend.get_text(), legend["data-to"]) == (
        "90 days ago",
        f"{percent} % uptime",
        "Today",
    )
    days = html.select_one("details.uptime-days")
    assert days.summary.get_text() == "1 day with an outage"
    assert [li.get_text() for li in days.select("li")] == ["Jun 10, 2025: 6h 0m major outage."]
    assert days.select_one("a")["href"] == f"/uptime#c-{api.code}"
    notes = [" ".join(li.get_text(" ").split()) for li in uptime_html.select(".day-notes li")]
    assert notes == ["Jun 10, 2025: 6h 0m major outage. Related: API down"]
    assert uptime_html.select_one(f".day-notes a[href='/incidents/{incident.code}']")
    cells = uptime_html.select("table.calendar td.major")
    assert [c.select_one(".n").get_text() for c in cells] == ["10"]


def comparable(result):
    return [
        (
            d.date,
            d.has_data,
            round(d.seconds),
            round(d.major),
            round(d.partial),
            round(d.degraded),
            round(d.maintenance),
            d.incidents,
        )
        for d in result.days
    ]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_rollups_give_the_same_days_as_replaying_the_history(paris_page, seed):
    import random

    from incidents.uptime_replay import history_uptimes

    rng = random.Random(seed)
    statuses = [S.OPERATIONAL, S.DEGRADED_PERFORMANCE, S.PARTIAL_OUTAGE, S.MAJOR_OUTAGE, S.UNDER_MAINTENANCE]
    start = paris(2025, 3, 1, 0, 0)
    with time_machine.travel(start - timedelta(days=1), tick=False):
        components = [
            services.component_create(page=paris_page, name=f"C{n}", start_date=date(2025, 2, 20) if n else None)
            for n in range(3)
        ]
    moment = start
    incident = None
    made = []
    for n in range(60):
        moment += timedelta(minutes=rng.randint(5, 2000))  # crosses midnights and the DST change on 30 March
        component = rng.choice(components)
        status = rng.choice([s for s in statuses if s != component.status])
        with time_machine.travel(moment, tick=False):
            if incident is None or rng.random() < 0.2:
                name = f"Incident {n}"
                incident = services.incident_create(
                    page=paris_page, name=name, body="a", components={component: status}
                )
                made.append(incident)
            else:
                services.incident_post_update(incident=incident, body="b", components={component: status})
            # Renames and deletes, of the current incident as of older ones, after their rollups were written.
            if rng.random() < 0.15:
                services.incident_edit(incident=rng.choice(made), name=f"Renamed {n}")
            if len(made) > 1 and rng.random() < 0.1:
                gone = made.pop(rng.randrange(len(made)))
                services.incident_delete(incident=gone)
                incident = None if gone.pk == incident.pk else incident
        component.refresh_from_db()
    services.incident_edit(incident=made[0], name="Renamed at the end")
    now = moment + timedelta(hours=7)
    loaded = list(Component.objects.filter(page=paris_page).select_related("page", "status_change__incident"))
    rolled = component_uptimes(loaded, PARIS, now, days=90)
    replayed = history_uptimes(loaded, PARIS, now, days=90)
    for from_rollups, from_history in zip(rolled, replayed, strict=True):
        assert comparable(from_rollups) == comparable(from_history)
        assert from_rollups.percent == from_history.percent
    named = {code: name for u in rolled for d in u.days for code, name in d.incidents.items()}
    assert named, "the history relates days to incidents"
    assert named == dict(Incident.objects.filter(code__in=named).values_list("code", "name"))


def test_moving_an_update_in_time_rebuilds_the_rollups(paris_page):
    from incidents.uptime_replay import history_uptimes

    api = services.component_create(page=paris_page, name="API", start_date=date(2025, 1, 1))
    with time_machine.travel(paris(2025, 6, 10, 12, 0), tick=False):
        incident = services.incident_create(page=paris_page, name="x", body="a", components={api: S.MAJOR_OUTAGE})
        update = services.incident_post_update(
            incident=incident, status="resolved", body="b", components={api: S.OPERATIONAL}
        )
    with time_machine.travel(paris(2025, 6, 10, 18, 0), tick=False):
        services.incident_update_edit(
            update=incident.updates.order_by("id").first(), display_at=paris(2025, 6, 10, 9, 0)
        )
        services.incident_update_edit(update=update, display_at=paris(2025, 6, 10, 11, 0))
    now = paris(2025, 6, 11, 12, 0)
    loaded = list(Component.objects.filter(pk=api.pk).select_related("page", "status_change__incident"))
    (rolled,) = component_uptimes(loaded, PARIS, now, days=3)
    (replayed,) = history_uptimes(loaded, PARIS, now, days=3)
    assert comparable(rolled) == comparable(replayed)
    assert [d.major for d in rolled.days][1] == 2 * HOUR


def test_a_new_time_zone_moves_the_days(paris_page):
    from incidents import page_services

    api = services.component_create(page=paris_page, name="API", start_date=date(2025, 1, 1))
    set_status(api, S.MAJOR_OUTAGE, paris(2025, 6, 10, 23, 0))
    set_status(api, S.OPERATIONAL, paris(2025, 6, 11, 1, 0))
    page = page_services.page_update(page=paris_page, time_zone="UTC")
    api = Component.objects.select_related("page", "status_change__incident").get(pk=api.pk)
    (result,) = component_uptimes([api], page.tz, paris(2025, 6, 12, 12, 0), days=3)
    # 23:00-01:00 in Paris is 21:00-23:00 UTC: one day in UTC.
    assert {d.date: d.major for d in result.days} == {
        date(2025, 6, 10): 2 * HOUR,
        date(2025, 6, 11): 0,
        date(2025, 6, 12): 0,
    }


@pytest.mark.parametrize(
    ("seconds", "level", "words"),
    [
        (56, "major", "Jun 10, 2025: 56s major outage. Related: API down."),
        (0.4, "ok", "Jun 10, 2025: No downtime recorded on this day."),
        (3600, "major", "Jun 10, 2025: 1h 0m major outage. Related: API down."),
    ],
)
def test_a_days_colour_and_its_words_come_from_the_same_figure(client, db, seconds, level, words):
    with time_machine.travel(datetime(2025, 6, 12, 12, 0, tzinfo=UTC), tick=False):
        page = services.page_create(name="Acme")
        api = services.component_create(page=page, name="API", start_date=date(2025, 5, 1))
        start = datetime(2025, 6, 10, 10, 0, tzinfo=UTC)
        incident = services.incident_create(
            page=page, name="API down", body="a", components={api: S.MAJOR_OUTAGE}, display_at=start
        )
        services.incident_post_update(
            incident=incident, status="resolved", body="b", components={api: S.OPERATIONAL},
            display_at=start + timedelta(seconds=seconds),
        )  # fmt: skip
        html = BeautifulSoup(client.get("/").content, "html.parser")
    assert bar_levels(html.select_one(".uptime svg.bars"))[-3] == level
    listed = [li.get_text() for li in html.select("details.uptime-days li")]
    assert listed == ([words.replace(" Related: API down.", "")] if level != "ok" else [])


def test_the_uptime_page_of_a_page_without_components_answers(client, db):
    services.page_create(name="Empty")
    response = client.get("/uptime")
    assert response.status_code == 200


def test_a_renamed_or_deleted_incident_is_shown_as_it_is_now_beside_the_days_it_touched(client, db):
    with time_machine.travel(datetime(2025, 6, 12, 12, 0, tzinfo=UTC), tick=False):
        page = services.page_create(name="Acme")
        api = services.component_create(page=page, name="API", start_date=date(2025, 5, 1))
        incident = services.incident_create(
            page=page, name="API down", body="a", components={api: S.MAJOR_OUTAGE},
            display_at=datetime(2025, 6, 10, 10, 0, tzinfo=UTC),
        )  # fmt: skip
        services.incident_post_update(
            incident=incident, status="resolved", body="b", components={api: S.OPERATIONAL},
            display_at=datetime(2025, 6, 10, 16, 0, tzinfo=UTC),
        )  # fmt: skip

        def notes():
            html = BeautifulSoup(client.get("/uptime").content, "html.parser")
            return [" ".join(li.get_text(" ").split()) for li in html.select(".day-notes li")], html

        before, _ = notes()
        assert before == ["Jun 10, 2025: 6h 0m major outage. Related: API down"]
        services.incident_edit(incident=incident, name="Database failover")
        renamed, html = notes()
        assert renamed == ["Jun 10, 2025: 6h 0m major outage. Related: Database failover"]
        assert html.select_one(f".day-notes a[href='/incidents/{incident.code}']").get_text() == "Database failover"
        services.incident_delete(incident=incident)
        deleted, html = notes()
        assert deleted == ["Jun 10, 2025: 6h 0m major outage."]
        assert not html.select(".day-notes a")


def test_the_words_under_a_bar_match_the_figure_degraded_performance_is_not_an_outage():
    from incidents.uptime_bars import days_summary

    assert days_summary(["ok"] * 90, 90) == "No outages in the last 90 days"
    assert days_summary(["ok", "degraded", "degraded"], 90) == "2 days with degraded performance"
    assert days_summary(["partial", "ok", "major"], 90) == "2 days with an outage"
    assert days_summary(["partial", "degraded", "ok"], 90) == "1 day with an outage, 1 with degraded performance"


def test_an_outage_never_shows_as_100_percent_uptime(db):
    from incidents.uptime import ComponentUptime, Day

    clean = [Day(date(2025, 6, 10), True, seconds=86_400) for _ in range(89)]
    one_outage = Day(date(2025, 6, 10), True, seconds=86_400, partial=55)  # 55 s of partial outage: 99.99979 %
    assert ComponentUptime(component=None, days=[*clean, one_outage]).percent == "99.99"
    assert ComponentUptime(component=None, days=[Day(date(2025, 6, 10), True, seconds=86_400)]).percent == "100.00"
