"""Update commitments: "Next update expected by …", the staff reminders, and the incident metrics."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from bs4 import BeautifulSoup
from django.core import mail
from django.core.exceptions import ValidationError

from incidents import services
from incidents.metrics import incident_metrics, mean_time_to_resolve_by_component
from incidents.models import Incident
from incidents.tasks import watch_update_promises

T0 = datetime(2025, 6, 6, 17, 45, tzinfo=UTC)


@pytest.fixture
def clock():
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


def text(node):
    return " ".join(node.get_text(" ").split())


def test_a_promise_shows_on_the_public_page_while_the_incident_is_open(client, page, clock):
    incident = services.incident_create(page=page, name="Delays", body="Looking.", next_update_in=timedelta(minutes=30))
    assert incident.next_update_at == T0 + timedelta(minutes=30)
    home = BeautifulSoup(client.get("/").content, "html.parser")
    assert text(home.select_one(".incident-card .promise")) == "Next update expected by 18:15 UTC"
    detail = BeautifulSoup(client.get(f"/incidents/{incident.code}").content, "html.parser")
    assert text(detail.select_one(".promise")) == "Next update expected by 18:15 UTC"
    clock.shift(timedelta(minutes=40))
    # A missed promise is the staff's business (the admin says "overdue"); the cached public page keeps the promise.
    late = BeautifulSoup(client.get("/").content, "html.parser")
    assert text(late.select_one(".promise")) == "Next update expected by 18:15 UTC"
    assert "overdue" not in text(late)


def test_a_new_update_replaces_the_promise_and_resolving_ends_it(page, clock):
    incident = services.incident_create(page=page, name="x", body="a", next_update_in=timedelta(minutes=30))
    clock.shift(timedelta(minutes=10))
    services.incident_post_update(incident=incident, body="b")
    incident.refresh_from_db()
    assert incident.next_update_at is None
    services.incident_post_update(incident=incident, body="c", next_update_in=timedelta(hours=1))
    incident.refresh_from_db()
    assert incident.next_update_at == T0 + timedelta(minutes=70)
    services.incident_post_update(incident=incident, status="resolved", body="d", next_update_in=timedelta(hours=1))
    incident.refresh_from_db()
    assert incident.next_update_at is None


@pytest.mark.parametrize("delta", [timedelta(0), timedelta(seconds=-60), timedelta(days=8)])
def test_an_impossible_promise_is_refused_and_changes_nothing(page, clock, delta):
    with pytest.raises(ValidationError, match="between 1 minute and 7 days"):
        services.incident_create(page=page, name="x", body="a", next_update_in=delta)
    assert not Incident.objects.exists()


def test_the_pages_staff_are_reminded_once_before_the_deadline_and_once_when_it_passes(page, clock, make_user):
    make_user("rita", "Responders")
    make_user("adam", "Page admins")
    make_user("visitor", staff=False)
    make_user("bob", "Responders", pages=[services.page_create(name="Other")])  # another page's: not told
    incident = services.incident_create(page=page, name="Delays", body="a", next_update_in=timedelta(minutes=30))
    assert watch_update_promises() == 0
    clock.shift(timedelta(minutes=26))
    assert watch_update_promises() == 1
    assert watch_update_promises() == 0  # a second run sends nothing twice
    (reminder,) = mail.outbox
    assert reminder.subject == "[Acme Cloud] Update due at Jun 6, 2025 - 18:15 UTC: “Delays”"
    assert sorted(reminder.to) == ["adam@example.com", "rita@example.com"]
    assert f"/admin/incidents/incident/{incident.pk}/change/" in reminder.body
    clock.shift(timedelta(minutes=5))
    assert watch_update_promises() == 1
    assert watch_update_promises() == 0
    assert mail.outbox[1].subject.startswith("[Acme Cloud] Overdue: the update promised for Jun 6, 2025 - 18:15 UTC")


def test_a_kept_promise_sends_no_overdue_reminder(page, clock, make_user):
    make_user("rita", "Responders")
    incident = services.incident_create(page=page, name="x", body="a", next_update_in=timedelta(minutes=30))
    clock.shift(timedelta(minutes=29))
    services.incident_post_update(incident=incident, body="on time")
    clock.shift(timedelta(hours=2))
    assert watch_update_promises() == 0
    assert mail.outbox == []


def test_the_incident_list_marks_overdue_incidents(client, page, clock, responder):
    services.incident_create(page=page, name="Late one", body="a", next_update_in=timedelta(minutes=15))
    services.incident_create(page=page, name="On time", body="a", next_update_in=timedelta(hours=2))
    clock.shift(timedelta(minutes=20))
    client.force_login(responder)
    rows = {
        text(r.select_one("th")): text(r)
        for r in BeautifulSoup(client.get("/admin/incidents/incident/").content, "html.parser").select(
            "#result_list tbody tr"
        )
    }
    assert "update overdue by 5 min" in rows["Late one"]
    assert "overdue" not in rows["On time"]


def test_the_metrics_count_times_updates_and_promises(page, clock):
    at = T0
    incident = services.incident_create(
        page=page, name="x", body="a", display_at=at, next_update_in=timedelta(minutes=30)
    )
    steps = [(20, "identified", 30), (80, "identified", 30), (95, "monitoring", None), (200, "resolved", None)]
    clock.shift(timedelta(hours=5))
    for minutes, status, promise in steps:
        services.incident_post_update(
            incident=incident, status=status, body=f"{minutes}", display_at=at + timedelta(minutes=minutes),
            next_update_in=timedelta(minutes=promise) if promise else None,
        )  # fmt: skip
    incident.refresh_from_db()
    updates = list(incident.updates.order_by("display_at", "id"))
    metrics = incident_metrics(incident, updates, T0 + timedelta(hours=5))
    assert metrics.as_dict() == {
        "time_to_identify": 20 * 60,
        "time_to_monitoring": 95 * 60,
        "time_to_resolution": 200 * 60,
        "updates": 5,
        "promises_kept": 2,  # 0 -> 20 and 80 -> 95 came in time
        "promises_broken": 1,  # 20 promised 50, the next came at 80
        "promises_pending": 0,
    }


def test_mean_time_to_resolve_by_component_over_ninety_days(page, make_component, clock):
    api, web = make_component("API"), make_component("Web")
    for minutes, components in ((60, [api]), (120, [api, web])):
        incident = services.incident_create(
            page=page, name="x", body="a", display_at=T0 - timedelta(days=10), affected=components
        )
        services.incident_post_update(
            incident=incident,
            status="resolved",
            body="b",
            display_at=T0 - timedelta(days=10) + timedelta(minutes=minutes),
        )
    old = services.incident_create(page=page, name="old", body="a", display_at=T0 - timedelta(days=200), affected=[web])
    services.incident_post_update(incident=old, status="resolved", body="b", display_at=T0 - timedelta(days=199))
    rows = mean_time_to_resolve_by_component(page, T0)
    assert rows == [("Web", timedelta(minutes=120), 1), ("API", timedelta(minutes=90), 2)]


def test_a_reminder_that_could_not_be_sent_is_tried_again(page, clock, make_user, settings):
    make_user("rita", "Responders")
    services.incident_create(page=page, name="x", body="a", next_update_in=timedelta(minutes=30))
    clock.shift(timedelta(minutes=27))
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 2  # nothing listens
    assert watch_update_promises() == 0
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert watch_update_promises() == 1
    assert len(mail.outbox) == 1


def test_maintenances_do_not_count_in_the_mean_time_to_resolve(page, make_component, clock):
    from incidents.services.maintenance import maintenance_complete, maintenance_create, maintenance_start

    api = make_component("API")
    maintenance = maintenance_create(page=page, name="m", body="b", scheduled_for=T0 - timedelta(days=3),
                                     scheduled_until=T0 - timedelta(days=2), components=[api],
                                     display_at=T0 - timedelta(days=4))  # fmt: skip
    maintenance_start(maintenance=maintenance, display_at=T0 - timedelta(days=3))
    maintenance_complete(maintenance=maintenance, display_at=T0 - timedelta(days=3, hours=-1))
    assert mean_time_to_resolve_by_component(page, T0) == []


def test_the_page_admin_screen_shows_the_mean_time_to_resolve(client, page, page_admin, make_component, clock):
    api = make_component("API")
    incident = services.incident_create(
        page=page, name="x", body="a", display_at=T0 - timedelta(days=2), affected=[api]
    )
    services.incident_post_update(
        incident=incident, status="resolved", body="b", display_at=T0 - timedelta(days=2) + timedelta(minutes=75)
    )
    client.force_login(page_admin)
    html = client.get(f"/admin/incidents/page/{page.pk}/change/").content.decode()
    assert "Mean time to resolve, last 90 days" in html
    assert "API: 1h 15m (1 incidents)" in html
