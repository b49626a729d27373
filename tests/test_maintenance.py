"""Scheduled maintenance: the window, the automatic stages, the public page and the calendar."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from bs4 import BeautifulSoup
from django.core.exceptions import ValidationError
from icalendar import Calendar

from incidents import services
from incidents.choices import ComponentStatus as S
from incidents.models import Incident
from incidents.services.maintenance import maintenance_create
from incidents.tasks import advance_maintenances

NOW = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)
START = datetime(2025, 3, 12, 1, 0, tzinfo=UTC)  # 02:00 in Paris (CET)
END = datetime(2025, 3, 12, 3, 0, tzinfo=UTC)


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def paris(db):
    return services.page_create(name="Acme", time_zone="Europe/Paris")


@pytest.fixture
def database_upgrade(paris, clock):
    db_component = services.component_create(page=paris, name="Database")
    api = services.component_create(page=paris, name="API", status=S.DEGRADED_PERFORMANCE)
    maintenance = maintenance_create(
        page=paris, name="Database upgrade", body="We will upgrade the **database**.",
        scheduled_for=START, scheduled_until=END, components=[db_component, api],
    )  # fmt: skip
    return maintenance, db_component, api


def text(node):
    return " ".join(node.get_text(" ").split())


def test_a_maintenance_needs_a_window_that_ends_after_it_starts(paris, clock):
    with pytest.raises(ValidationError, match="end after it starts"):
        maintenance_create(page=paris, name="x", body="y", scheduled_for=END, scheduled_until=START)
    assert not Incident.objects.exists()


def test_it_starts_and_completes_on_time_restoring_the_components(database_upgrade, clock):
    maintenance, db_component, api = database_upgrade
    assert (maintenance.status, maintenance.impact) == ("scheduled", "maintenance")
    assert advance_maintenances() == 0
    clock.move_to(START + timedelta(seconds=30))
    assert advance_maintenances() == 1
    assert advance_maintenances() == 0  # a second beat tick moves nothing
    maintenance.refresh_from_db()
    db_component.refresh_from_db()
    assert maintenance.status == "in_progress"
    assert db_component.status == S.UNDER_MAINTENANCE
    # Meanwhile an incident takes the API down: completion must not hide that.
    services.component_set_status(component=api, status=S.MAJOR_OUTAGE)
    clock.move_to(END + timedelta(seconds=30))
    assert advance_maintenances() == 1
    maintenance.refresh_from_db()
    db_component.refresh_from_db()
    api.refresh_from_db()
    assert maintenance.status == "completed"
    assert maintenance.resolved_at == END + timedelta(seconds=30)
    assert (db_component.status, api.status) == (S.OPERATIONAL, S.MAJOR_OUTAGE)
    labels = list(maintenance.updates.order_by("display_at").values_list("status", flat=True))
    assert labels == ["scheduled", "in_progress", "completed"]


def test_a_component_degraded_before_the_maintenance_goes_back_to_degraded(database_upgrade, clock):
    maintenance, _db, api = database_upgrade
    clock.move_to(START)
    advance_maintenances()
    clock.move_to(END)
    advance_maintenances()
    api.refresh_from_db()
    assert api.status == S.DEGRADED_PERFORMANCE


def test_without_automatic_stages_nothing_moves_by_itself(paris, clock):
    maintenance = maintenance_create(page=paris, name="Manual", body="b", scheduled_for=START, scheduled_until=END,
                                     auto_in_progress=False, auto_completed=False)  # fmt: skip
    clock.move_to(END + timedelta(hours=1))
    assert advance_maintenances() == 0
    maintenance.refresh_from_db()
    assert maintenance.status == "scheduled"


def test_maintenance_stages_are_refused_on_an_incident_and_the_reverse(database_upgrade, paris, clock):
    maintenance, *_ = database_upgrade
    with pytest.raises(ValidationError, match="Unknown status 'resolved'"):
        services.incident_post_update(incident=maintenance, status="resolved", body="x")
    incident = services.incident_create(page=paris, name="x", body="y")
    with pytest.raises(ValidationError, match="Unknown status 'completed'"):
        services.incident_post_update(incident=incident, status="completed", body="x")


def test_the_public_page_shows_the_window_in_the_page_zone(client, database_upgrade, clock):
    maintenance, *_ = database_upgrade
    html = BeautifulSoup(client.get("/").content, "html.parser")
    card = html.select_one(".maintenances .maintenance-card")
    assert text(html.select_one(".maintenances h2")) == "Scheduled Maintenance"
    assert "Scheduled for Mar 12, 2025 02:00 - 04:00 CET" in text(card)
    assert "Posted on Mar 10, 2025 - 13:00 CET" in text(card)
    assert html.select_one(".banner") is not None  # a maintenance is not an open incident
    detail = BeautifulSoup(client.get(f"/incidents/{maintenance.code}").content, "html.parser")
    assert "Scheduled Maintenance Report for Acme" in text(detail.select_one(".incident-header"))
    assert text(detail.select_one(".summary")) == "Scheduled for Mar 12, 2025 02:00 - 04:00 CET."
    assert text(detail.select_one(".affected")) == "This scheduled maintenance affected: Database and API."
    clock.move_to(START)
    advance_maintenances()
    html = BeautifulSoup(client.get("/").content, "html.parser")
    assert "In progress" in text(html.select_one(".maintenance-card"))
    assert text(html.select_one(".banner")) == "Service Under Maintenance"


def test_the_calendar_feed_lists_the_maintenance_for_calendar_apps(client, database_upgrade):
    maintenance, *_ = database_upgrade
    response = client.get("/maintenance.ics")
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    calendar = Calendar.from_ical(response.content)
    (event,) = calendar.walk("VEVENT")
    assert str(event["uid"]).startswith(maintenance.code + "@")
    assert event.decoded("dtstart") == START
    assert event.decoded("dtend") == END
    assert str(event["summary"]) == "Database upgrade (Scheduled)"
    assert str(event["description"]) == "We will upgrade the database."
    assert str(event["url"]).endswith(f"/incidents/{maintenance.code}")


def test_a_responder_schedules_a_maintenance_from_the_admin(client, paris, make_user, clock):
    responder = make_user("rita", "Responders", pages=[paris])
    db_component = services.component_create(page=paris, name="Database")
    client.force_login(responder)
    response = client.post("/admin/incidents/incident/maintenance/add/", {
        "name": "Database upgrade", "body": "Upgrading.", "scheduled_for": "2025-03-12T02:00",
        "scheduled_until": "2025-03-12T04:00", "components": [db_component.pk], "auto_in_progress": "on",
        "auto_completed": "on",
    })  # fmt: skip
    assert response.status_code == 302
    maintenance = Incident.objects.get()
    assert (maintenance.scheduled_for, maintenance.scheduled_until) == (START, END)  # read in the page's zone
    assert list(maintenance.components.all()) == [db_component]
    backwards = client.post("/admin/incidents/incident/maintenance/add/", {
        "name": "Backwards", "body": "x", "scheduled_for": "2025-03-12T04:00", "scheduled_until": "2025-03-12T02:00",
    })  # fmt: skip
    assert backwards.status_code == 200
    assert "must end after it starts" in backwards.content.decode()
    page = BeautifulSoup(client.get(f"/admin/incidents/incident/{maintenance.pk}/change/").content, "html.parser")
    assert [o["value"] for o in page.select("#id_status option")] == [
        "scheduled",
        "in_progress",
        "verifying",
        "completed",
    ]


def test_subscribers_are_reminded_once_an_hour_before(paris, clock, django_capture_on_commit_callbacks):
    from django.core import mail

    from incidents.tasks import remind_maintenance_subscribers
    from tests.notify_helpers import assert_email_contains, confirmed

    confirmed(paris, "ops@customer.example")
    with django_capture_on_commit_callbacks(execute=True):
        maintenance_create(page=paris, name="Database upgrade", body="Upgrading.", scheduled_for=START,
                           scheduled_until=END, remind_prior=True)  # fmt: skip
    mail.outbox.clear()  # the "Scheduled" notification
    clock.move_to(START - timedelta(minutes=61))
    assert remind_maintenance_subscribers() == 0
    clock.move_to(START - timedelta(minutes=59))
    with django_capture_on_commit_callbacks(execute=True):
        assert remind_maintenance_subscribers() == 1
        assert remind_maintenance_subscribers() == 0
    (reminder,) = mail.outbox
    assert reminder.subject == "[Acme] Database upgrade: Reminder"
    assert reminder.to == ["ops@customer.example"]
    assert_email_contains(reminder, "This scheduled maintenance starts soon.", "Mar 12, 2025 02:00 - 04:00 CET")


def test_an_update_email_carries_the_next_update_promise(paris, clock, django_capture_on_commit_callbacks):
    from django.core import mail

    from tests.notify_helpers import assert_email_contains, confirmed

    confirmed(paris, "ops@customer.example")
    with django_capture_on_commit_callbacks(execute=True):
        services.incident_create(page=paris, name="Slow API", body="Looking.", next_update_in=timedelta(minutes=30))
    (message,) = mail.outbox
    assert_email_contains(message, "Next update expected by 13:30 CET.")


def test_a_component_held_by_two_maintenances_waits_for_the_last_one(paris, clock):
    from incidents.services.maintenance import maintenance_complete, maintenance_start

    database = services.component_create(page=paris, name="Database")
    first = maintenance_create(
        page=paris, name="A", body="a", scheduled_for=START, scheduled_until=END, components=[database]
    )
    second = maintenance_create(page=paris, name="B", body="b", scheduled_for=START, scheduled_until=END + timedelta(hours=2), components=[database])  # fmt: skip
    clock.move_to(START)
    maintenance_start(maintenance=first)
    maintenance_start(maintenance=second)
    clock.move_to(END)
    maintenance_complete(maintenance=first)
    database.refresh_from_db()
    assert database.status == S.UNDER_MAINTENANCE
    clock.move_to(END + timedelta(hours=2))
    maintenance_complete(maintenance=second)
    database.refresh_from_db()
    assert database.status == S.OPERATIONAL


def test_the_automatic_stages_notify_only_when_the_responder_asked(paris, clock):
    quiet = maintenance_create(page=paris, name="Quiet", body="q", scheduled_for=START, scheduled_until=END,
                               deliver_notifications=False)  # fmt: skip
    loud = maintenance_create(page=paris, name="Loud", body="l", scheduled_for=START, scheduled_until=END)
    clock.move_to(END)
    advance_maintenances()
    assert list(quiet.updates.values_list("deliver_notifications", flat=True)) == [False, False, False]
    assert list(loud.updates.values_list("deliver_notifications", flat=True)) == [True, True, True]
