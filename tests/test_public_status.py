"""The public page always states its status: one status line and one <h1>, maintenance under way in its own box."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from bs4 import BeautifulSoup

from incidents import services
from incidents.choices import ComponentStatus as S
from incidents.services.maintenance import maintenance_create, maintenance_start

NOW = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)


def soup(response, status=200):
    assert response.status_code == status, response.status_code
    return BeautifulSoup(response.content, "html.parser")


def text(node) -> str:
    return " ".join(node.get_text(" ").split())


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def outage(page, make_component, clock):
    sms = make_component("SMS")
    api = make_component("API")
    services.component_set_status(component=api, status=S.MAJOR_OUTAGE)
    return services.incident_create(
        page=page, name="SMS delayed", body="Looking.", components={sms: S.DEGRADED_PERFORMANCE}
    )


def test_with_an_open_incident_the_status_line_stays_on_top_as_the_only_h1(client, outage):
    html = soup(client.get("/"))
    banner = html.select_one(".banner")
    # Another component is down: the page says so above the minor incident's card, in words and colour.
    assert text(banner) == "Partial System Outage"
    assert "indicator-major" in banner["class"]
    assert [text(h) for h in html.find_all("h1")] == ["Partial System Outage"]
    card = html.select_one(".incident-card")
    assert "SMS delayed" in text(card)
    assert banner.find_all_next(class_="incident-card")[0] is card


def test_every_public_page_has_exactly_one_h1(client, outage, page):
    services.incident_post_update(incident=outage, status="resolved", body="Fixed.")
    paths = ["/", f"/incidents/{outage.code}", "/history", "/uptime"]
    for path in paths:
        assert len(soup(client.get(path)).find_all("h1")) == 1, path
    assert len(soup(client.post("/subscribe", {"email": "ann@example.com"})).find_all("h1")) == 1
    assert len(soup(client.get("/no-such-page"), status=404).find_all("h1")) == 1


@pytest.fixture
def maintenances(page, make_component, clock):
    database = make_component("Database")
    window = {"scheduled_for": NOW + timedelta(hours=1), "scheduled_until": NOW + timedelta(hours=3)}
    running = maintenance_create(page=page, name="Database upgrade", body="Upgrading.", components=[database], **window)
    forgotten = maintenance_create(page=page, name="Forgotten cleanup", body="Cleaning.", **window)
    later = {"scheduled_for": NOW + timedelta(days=2), "scheduled_until": NOW + timedelta(days=2, hours=1)}
    coming = maintenance_create(page=page, name="Network change", body="Changing.", **later)
    clock.shift(timedelta(hours=1))
    maintenance_start(maintenance=running, body="The upgrade has begun.", deliver_notifications=False)
    return running, forgotten, coming


def test_a_maintenance_in_progress_has_its_own_box_at_the_top(client, maintenances):
    html = soup(client.get("/"))
    box = html.select_one(".maintenance-now")
    assert text(box.select_one("h2")) == "Maintenance in progress"
    assert [text(h) for h in box.select(".maintenance-card h3")] == ["Database upgrade"]
    assert "In Progress" in text(box) or "In progress" in text(box)
    assert "The upgrade has begun." in text(box)
    upcoming = html.select_one(".maintenances")
    assert [text(h) for h in upcoming.select(".maintenance-card h3")] == ["Forgotten cleanup", "Network change"]
    assert text(html.select_one(".banner")) == "Service Under Maintenance"


def test_a_maintenance_whose_window_has_passed_is_never_listed_as_upcoming(client, maintenances, clock):
    clock.shift(timedelta(hours=2, minutes=5))  # both windows ended; nobody started or completed them
    html = soup(client.get("/"))
    upcoming = html.select_one(".maintenances")
    assert [text(h) for h in upcoming.select(".maintenance-card h3")] == ["Network change"]
    # Still running past its window: it stays in the box, and says so.
    box = html.select_one(".maintenance-now")
    assert "Database upgrade" in text(box)
    assert "running past its window" in text(box)


def test_an_incident_a_few_seconds_old_is_ongoing_for_less_than_a_minute(client, outage, clock):
    clock.shift(timedelta(seconds=20))
    html = soup(client.get(f"/incidents/{outage.code}"))
    assert text(html.select_one(".summary")).endswith("ongoing for less than a minute.")


@pytest.mark.parametrize(
    ("status", "icon"),
    [
        (S.OPERATIONAL, "operational"),
        (S.DEGRADED_PERFORMANCE, "degraded_performance"),
        (S.PARTIAL_OUTAGE, "degraded_performance"),  # one component in partial outage: a minor indicator
        (S.MAJOR_OUTAGE, "partial_outage"),  # one of two in major outage: a major indicator
        (S.UNDER_MAINTENANCE, "under_maintenance"),
    ],
)
def test_the_status_line_icon_reads_like_the_indicator_not_always_like_a_major_outage(client, page, status, icon):
    services.component_create(page=page, name="API", status=status)
    services.component_create(page=page, name="Web")
    banner = soup(client.get("/")).select_one(".banner use")
    assert banner["href"] == f"#i-{icon}"
