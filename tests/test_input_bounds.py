"""Bounds on every time and size: the services refuse, so the admin shows a form error and the API a 422."""

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError

from incidents import page_services, services
from incidents.models import Incident
from incidents.services.maintenance import maintenance_create
from incidents.validation import MAX_TEXT

NOW = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)
PUBLIC_PATHS = [
    "/",
    "/api/v2/summary.json",
    "/api/v2/scheduled-maintenances.json",
    "/api/v2/scheduled-maintenances/upcoming.json",
    "/api/v2/scheduled-maintenances/active.json",
    "/maintenance.ics",
    "/history",
    "/history.atom",
]


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def paris(page):
    return page_services.page_update(page=page, time_zone="Europe/Paris")


@pytest.fixture
def database(page):
    return services.component_create(page=page, name="Database")


def schedule(api, **fields):
    return api.post("incidents", {"incident": {"name": "Database upgrade", "body": "Upgrading.", **fields}})


def assert_refused(response, words):
    assert response.status_code == 422, response.content
    assert words in response.json()["error"]


# -- the year-9999 maintenance on a Paris page -------------------------------------------------------------


def test_a_maintenance_in_year_9999_on_a_paris_page_is_refused_by_the_api_and_the_page_stays_up(
    client, admin_api, paris
):
    response = schedule(admin_api, scheduled_for="9999-12-31T22:00:00Z", scheduled_until="9999-12-31T23:30:00Z")
    assert_refused(response, "at most a year ahead")
    assert not Incident.objects.exists()
    for path in PUBLIC_PATHS:
        assert client.get(path).status_code == 200, path


def test_a_maintenance_in_year_9999_is_refused_by_the_admin_form(client, page_admin, paris):
    client.force_login(page_admin)
    response = client.post(
        "/admin/incidents/incident/maintenance/add/",
        {
            "name": "Far away",
            "body": "Later.",
            "scheduled_for": "9999-12-31T23:00",
            "scheduled_until": "9999-12-31T23:59",
        },
    )
    assert response.status_code == 200
    assert "at most a year ahead" in response.content.decode()
    assert not Incident.objects.exists()


def test_a_stored_extreme_window_never_takes_a_page_down(client, admin_api, responder, paris, database):
    """A value stored before the bounds existed (or by hand) is shown in UTC rather than answering 500."""
    maintenance = maintenance_create(
        page=paris, name="Far away", body="Later.", components=[database],
        scheduled_for=datetime.now(UTC) + timedelta(days=1), scheduled_until=datetime.now(UTC) + timedelta(days=2),
    )  # fmt: skip
    far = datetime(9999, 12, 31, 22, 0, tzinfo=UTC)
    Incident.objects.filter(pk=maintenance.pk).update(scheduled_for=far, scheduled_until=far + timedelta(minutes=90))
    services.page_changed(paris.pk)
    for path in [*PUBLIC_PATHS, f"/incidents/{maintenance.code}", f"/api/v2/incidents/{maintenance.code}.json"]:
        assert client.get(path).status_code == 200, path
    upcoming = client.get("/api/v2/scheduled-maintenances/upcoming.json").json()["scheduled_maintenances"]
    assert upcoming[0]["scheduled_until"] == "9999-12-31T23:30:00.000Z"
    assert admin_api.get(f"incidents/{maintenance.code}").status_code == 200
    assert admin_api.get("incidents/scheduled").status_code == 200
    client.force_login(responder)
    assert client.get("/admin/incidents/incident/").status_code == 200
    assert client.get(f"/admin/incidents/incident/{maintenance.pk}/change/").status_code == 200


# -- maintenance windows -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "end", "words"),
    [
        ("2025-03-09T10:00:00Z", "2025-03-10T11:00:00Z", "already ended"),
        ("2026-03-12T10:00:00Z", "2026-03-12T11:00:00Z", "at most a year ahead"),
        ("2025-03-12T10:00:00Z", "2026-03-12T11:00:00Z", "at most a year ahead"),
        ("2025-03-12T10:00:00Z", "2035-03-12T11:00:00Z", "at most a year ahead"),
        ("2025-03-12T10:00:00Z", "2025-03-26T10:01:00Z", "at most 14 days"),
        ("1989-12-31T10:00:00Z", "2025-03-26T10:00:00Z", "1990-01-01"),
    ],
)
def test_a_maintenance_window_out_of_bounds_is_refused_by_the_api(admin_api, clock, start, end, words):
    assert_refused(schedule(admin_api, scheduled_for=start, scheduled_until=end), words)
    assert not Incident.objects.exists()


def test_a_long_window_is_accepted_once_confirmed(admin_api, clock):
    window = {"scheduled_for": "2025-03-12T10:00:00Z", "scheduled_until": "2025-04-12T10:00:00Z"}
    assert_refused(schedule(admin_api, **window), "confirm a longer window")
    response = schedule(admin_api, **window, scheduled_long_window=True)
    assert response.status_code == 201, response.content
    assert response.json()["scheduled_until"] == "2025-04-12T10:00:00.000Z"


def test_the_admin_asks_to_confirm_a_long_window_and_keeps_what_was_typed(client, page_admin, page, clock):
    client.force_login(page_admin)
    form = {"name": "Migration", "body": "Moving **data**.", "scheduled_for": "2025-03-12T10:00",
            "scheduled_until": "2025-04-12T10:00"}  # fmt: skip
    refused = client.post("/admin/incidents/incident/maintenance/add/", form)
    assert refused.status_code == 200
    html = refused.content.decode()
    assert "at most 14 days" in html
    assert "Moving **data**." in html
    assert not Incident.objects.exists()
    accepted = client.post("/admin/incidents/incident/maintenance/add/", {**form, "long_window": "on"})
    assert accepted.status_code == 302
    assert Incident.objects.get().scheduled_until == datetime(2025, 4, 12, 10, 0, tzinfo=UTC)


def test_a_backfilled_maintenance_is_judged_at_its_own_display_time(page, clock):
    past = maintenance_create(
        page=page, name="Old upgrade", body="Done long ago.", display_at=datetime(2024, 1, 1, tzinfo=UTC),
        scheduled_for=datetime(2024, 1, 5, 2, 0, tzinfo=UTC), scheduled_until=datetime(2024, 1, 5, 3, 0, tzinfo=UTC),
    )  # fmt: skip
    assert past.scheduled_for.year == 2024


# -- display times --------------------------------------------------------------------------------------------


@pytest.fixture
def incident(page, clock):
    return services.incident_create(page=page, name="Slow", body="Looking.", display_at=NOW - timedelta(hours=1))


def test_a_display_time_before_the_earliest_date_is_refused(admin_api, incident):
    update = incident.updates.get()
    path = f"incidents/{incident.code}/incident_updates/{update.code}"
    for early in ("0001-01-01T00:00:00Z", "1989-12-31T23:59:00Z"):
        response = admin_api.patch(path, {"incident_update": {"display_at": early}})
        assert_refused(response, "display_at: must not be before 1990-01-01.")
    ok = admin_api.patch(path, {"incident_update": {"display_at": "1990-01-01T00:00:00Z"}})
    assert ok.status_code == 200, ok.content


def test_the_earliest_date_is_a_setting(incident, settings):
    settings.EARLIEST_DISPLAY_DATE = date(2020, 1, 1)
    with pytest.raises(ValidationError, match="2020-01-01"):
        services.incident_update_edit(update=incident.updates.get(), display_at=datetime(2019, 6, 1, tzinfo=UTC))
    with pytest.raises(ValidationError, match="2020-01-01"):
        services.incident_create(
            page=incident.page, name="Old", body="Old.", display_at=datetime(2019, 6, 1, tzinfo=UTC)
        )


def test_a_display_time_more_than_a_few_minutes_ahead_is_refused(incident):
    update = incident.updates.get()
    services.incident_update_edit(update=update, display_at=NOW + timedelta(minutes=2))  # clock skew: accepted
    with pytest.raises(ValidationError, match="must not be in the future"):
        services.incident_update_edit(update=update, display_at=NOW + timedelta(minutes=10))


def test_the_admin_refuses_a_display_time_in_year_1_with_a_form_error(client, responder, incident):
    client.force_login(responder)
    update = incident.updates.get()
    response = client.post(
        f"/admin/incidents/incident/update/{update.pk}/edit/", {"body": "Looking.", "display_at": "0001-01-01T00:00"}
    )
    assert response.status_code == 200
    assert "must not be before 1990-01-01" in response.content.decode()
    update.refresh_from_db()
    assert update.display_at == NOW - timedelta(hours=1)


# -- sizes -----------------------------------------------------------------------------------------------------


def test_a_message_over_20000_characters_is_refused_by_the_api(admin_api, page):
    response = admin_api.post("incidents", {"incident": {"name": "Big", "body": "x" * (MAX_TEXT + 1)}})
    assert_refused(response, "at most 20,000 characters")
    assert admin_api.post("incidents", {"incident": {"name": "Big", "body": "x" * MAX_TEXT}}).status_code == 201


def test_every_message_and_name_is_bounded_in_the_services(page, incident):
    long_text, long_name = "x" * (MAX_TEXT + 1), "n" * 256
    attempts = [
        lambda: services.incident_post_update(incident=incident, body=long_text),
        lambda: services.incident_update_edit(update=incident.updates.get(), body=long_text),
        lambda: services.incident_postmortem_save(incident=incident, body=long_text),
        lambda: services.incident_edit(incident=incident, name=long_name),
        lambda: services.component_create(page=page, name="API", description=long_text),
        lambda: services.component_create(page=page, name=long_name),
        lambda: page_services.incident_template_create(page=page, name="T", title="T", body=long_text),
    ]
    for attempt in attempts:
        with pytest.raises(ValidationError, match="at most"):
            attempt()


def test_the_admin_refuses_an_overlong_message_and_keeps_it(client, responder, incident):
    client.force_login(responder)
    body = "y" * (MAX_TEXT + 1)
    response = client.post(f"/admin/incidents/incident/{incident.pk}/change/", {"status": "identified", "body": body})
    assert response.status_code == 200
    assert "at most 20000 characters" in response.content.decode()
    assert body in response.content.decode()
    assert incident.updates.count() == 1


def test_an_overlong_postmortem_draft_is_refused_with_a_message_not_a_500(client, responder, incident):
    client.force_login(responder)
    response = client.post(
        f"/admin/incidents/incident/{incident.pk}/postmortem/", {"postmortem": "z" * (MAX_TEXT + 1)}, follow=True
    )
    assert response.status_code == 200
    assert "at most 20,000 characters" in response.content.decode()
    incident.refresh_from_db()
    assert incident.postmortem == ""


def test_the_earliest_date_is_read_from_the_environment_strictly(monkeypatch):
    from django.core.exceptions import ImproperlyConfigured

    from statuspage.env import env_date

    monkeypatch.delenv("EARLIEST_DISPLAY_DATE", raising=False)
    assert env_date("EARLIEST_DISPLAY_DATE", date(1990, 1, 1)) == date(1990, 1, 1)
    monkeypatch.setenv("EARLIEST_DISPLAY_DATE", "2005-06-01")
    assert env_date("EARLIEST_DISPLAY_DATE", date(1990, 1, 1)) == date(2005, 6, 1)
    monkeypatch.setenv("EARLIEST_DISPLAY_DATE", "June 2005")
    with pytest.raises(ImproperlyConfigured, match="EARLIEST_DISPLAY_DATE must be a date"):
        env_date("EARLIEST_DISPLAY_DATE", date(1990, 1, 1))
