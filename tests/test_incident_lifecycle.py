"""Declaring, updating and editing incidents through the service functions."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError

from incidents import services
from incidents.choices import ComponentStatus as S
from incidents.choices import IncidentStatus as I
from incidents.models import ComponentStatusChange, Incident, IncidentUpdate, Page
from incidents.presentation import format_duration
from incidents.selectors import label_updates

T0 = datetime(2025, 6, 6, 17, 41, tzinfo=UTC)


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


@pytest.fixture(autouse=True)
def _after_the_timeline():
    with time_machine.travel(datetime(2025, 6, 20, tzinfo=UTC), tick=False):
        yield


def labels(incident):
    updates = list(incident.updates.order_by("display_at", "id"))
    label_updates(updates)
    return [u.label for u in updates]


def test_an_update_with_an_unchanged_stage_is_labelled_update(page, make_component):
    api = make_component()
    incident = services.incident_create(
        page=page, name="Slow API", body="Looking.", components={api: S.DEGRADED_PERFORMANCE}, display_at=at(0)
    )
    for minutes, status in [(1, I.INVESTIGATING), (20, I.IDENTIFIED), (30, I.IDENTIFIED), (40, I.MONITORING)]:
        services.incident_post_update(incident=incident, status=status, body=f"Step {minutes}.", display_at=at(minutes))
    services.incident_post_update(incident=incident, status=I.RESOLVED, body="Fixed.", display_at=at(60))
    assert labels(incident) == ["Investigating", "Update", "Identified", "Update", "Monitoring", "Resolved"]


def test_an_update_without_a_status_keeps_the_current_stage(page):
    incident = services.incident_create(page=page, name="x", body="a", status=I.IDENTIFIED, display_at=at(0))
    update = services.incident_post_update(incident=incident, body="still on it", display_at=at(5))
    assert update.status == I.IDENTIFIED
    assert labels(incident) == ["Identified", "Update"]


def test_incident_times_follow_the_display_times_of_its_updates(page):
    incident = services.incident_create(page=page, name="x", body="a", display_at=at(0))
    services.incident_post_update(incident=incident, status=I.IDENTIFIED, body="b", display_at=at(83))
    services.incident_post_update(incident=incident, status=I.MONITORING, body="c", display_at=at(149))
    services.incident_post_update(incident=incident, status=I.MONITORING, body="d", display_at=at(160))
    services.incident_post_update(incident=incident, status=I.RESOLVED, body="e", display_at=at(200))
    services.incident_post_update(incident=incident, status=I.POSTMORTEM, body="f", display_at=at(7 * 24 * 60))
    incident.refresh_from_db()
    assert incident.started_at == at(0)
    assert incident.monitoring_at == at(149)
    assert incident.resolved_at == at(200)
    assert incident.status == I.POSTMORTEM
    assert format_duration(incident.duration()) == "3h 20m"


def test_backfilling_a_display_time_moves_the_incident_times(page):
    with time_machine.travel(at(300), tick=False):
        incident = services.incident_create(page=page, name="x", body="a")
        first = incident.updates.get()
        services.incident_update_edit(update=first, display_at=at(0))
        resolved = services.incident_post_update(incident=incident, status=I.RESOLVED, body="done")
        services.incident_update_edit(update=resolved, display_at=at(45))
    incident.refresh_from_db()
    assert (incident.started_at, incident.resolved_at) == (at(0), at(45))
    assert format_duration(incident.duration()) == "45m"


def test_reopening_a_resolved_incident_clears_its_resolution(page):
    incident = services.incident_create(page=page, name="x", body="a", display_at=at(0))
    services.incident_post_update(incident=incident, status=I.RESOLVED, body="b", display_at=at(10))
    services.incident_post_update(incident=incident, status=I.INVESTIGATING, body="back", display_at=at(20))
    incident.refresh_from_db()
    assert incident.resolved_at is None
    assert incident.is_open


def test_an_explicit_start_wins_over_the_first_update(page):
    incident = services.incident_create(page=page, name="x", body="a", display_at=at(10), started_at=at(0))
    assert incident.started_at == at(0)


@pytest.mark.parametrize(
    ("worst", "impact"),
    [
        (S.OPERATIONAL, "none"),
        (S.UNDER_MAINTENANCE, "none"),
        (S.DEGRADED_PERFORMANCE, "minor"),
        (S.PARTIAL_OUTAGE, "major"),
        (S.MAJOR_OUTAGE, "critical"),
    ],
)
def test_impact_is_computed_from_the_worst_affected_component(page, make_component, worst, impact):
    a, b = make_component("A"), make_component("B")
    incident = services.incident_create(
        page=page, name="x", body="a", components={a: S.OPERATIONAL, b: worst}, display_at=at(0)
    )
    assert incident.impact == impact
    services.incident_post_update(incident=incident, body="b", components={a: S.DEGRADED_PERFORMANCE}, display_at=at(1))
    incident.refresh_from_db()
    assert incident.impact == max(impact, "minor", key=["none", "minor", "major", "critical"].index)


def test_impact_keeps_the_worst_status_after_recovery_and_can_be_overridden(page, make_component):
    api = make_component()
    incident = services.incident_create(
        page=page, name="x", body="a", components={api: S.MAJOR_OUTAGE}, display_at=at(0)
    )
    services.incident_post_update(
        incident=incident, status=I.RESOLVED, body="b", components={api: S.OPERATIONAL}, display_at=at(10)
    )
    incident.refresh_from_db()
    assert incident.impact == "critical"
    overridden = services.incident_create(
        page=page, name="y", body="a", components={api: S.MAJOR_OUTAGE}, impact_override="minor", display_at=at(20)
    )
    assert overridden.impact == "minor"


def test_component_changes_are_recorded_with_the_incident_and_update(page, make_component):
    api = make_component()
    incident = services.incident_create(
        page=page, name="x", body="a", components={api: S.PARTIAL_OUTAGE}, display_at=at(0)
    )
    update = services.incident_post_update(
        incident=incident, status=I.RESOLVED, body="b", components={api: S.OPERATIONAL}, display_at=at(30)
    )
    changes = list(
        ComponentStatusChange.objects.filter(component=api).values_list(
            "old_status", "new_status", "changed_at", "incident", "update"
        )
    )
    assert changes == [
        (S.OPERATIONAL, S.PARTIAL_OUTAGE, at(0), incident.pk, incident.updates.order_by("id").first().pk),
        (S.PARTIAL_OUTAGE, S.OPERATIONAL, at(30), incident.pk, update.pk),
    ]
    api.refresh_from_db()
    assert api.status == S.OPERATIONAL
    assert list(incident.components.all()) == [api]


def test_setting_a_component_to_its_current_status_records_nothing(page, make_component):
    api = make_component()
    assert services.component_set_status(component=api, status=S.OPERATIONAL) is None
    change = services.component_set_status(component=api, status=S.DEGRADED_PERFORMANCE)
    assert (change.old_status, change.new_status, change.incident) == (S.OPERATIONAL, S.DEGRADED_PERFORMANCE, None)


# -- bad input changes nothing -------------------------------------------------------------------------


def snapshot():
    return (
        Incident.objects.count(),
        IncidentUpdate.objects.count(),
        ComponentStatusChange.objects.count(),
        list(Page.objects.values_list("version", flat=True)),
    )


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"status": "exploded"}, "status"),
        ({"body": "   "}, "body"),
        ({"name": ""}, "name"),
        ({"impact_override": "apocalyptic"}, "impact_override"),
        ({"display_at": datetime(2030, 1, 1, tzinfo=UTC)}, "display_at"),
        ({"display_at": datetime(2025, 6, 6, 17, 41)}, "display_at"),  # naive
        ({"started_at": at(30), "display_at": at(0)}, "started_at"),
    ],
)
def test_declaring_with_bad_input_raises_a_clear_error_and_changes_nothing(page, kwargs, field):
    before = snapshot()
    arguments = {"page": page, "name": "Outage", "body": "Looking.", "display_at": at(0), **kwargs}
    with pytest.raises(ValidationError) as error:
        services.incident_create(**arguments)
    assert field in error.value.message_dict
    assert snapshot() == before


def test_an_unknown_component_status_changes_nothing(page, make_component):
    api = make_component()
    before = snapshot()
    with pytest.raises(ValidationError, match="component status"):
        services.incident_create(page=page, name="x", body="a", components={api: "on_fire"})
    assert snapshot() == before


def test_a_component_of_another_page_is_refused(page, make_component):
    other = services.page_create(name="Other")
    foreign = services.component_create(page=other, name="Their API")
    incident = services.incident_create(page=page, name="x", body="a", display_at=at(0))
    before = snapshot()
    with pytest.raises(ValidationError, match="does not belong"):
        services.incident_post_update(incident=incident, body="b", components={foreign: S.MAJOR_OUTAGE})
    with pytest.raises(ValidationError, match="does not belong"):
        services.incident_create(page=page, name="y", body="b", affected=[foreign])
    assert snapshot() == before
    foreign.refresh_from_db()
    assert foreign.status == S.OPERATIONAL


def test_an_update_cannot_be_shown_before_the_latest_one(page):
    incident = services.incident_create(page=page, name="x", body="a", display_at=at(10))
    with pytest.raises(ValidationError, match="before the incident's latest update"):
        services.incident_post_update(incident=incident, body="b", display_at=at(5))


def test_editing_a_display_time_keeps_the_posting_order(page):
    incident = services.incident_create(page=page, name="x", body="a", display_at=at(0))
    middle = services.incident_post_update(incident=incident, body="b", display_at=at(10))
    services.incident_post_update(incident=incident, body="c", display_at=at(20))
    before = snapshot()
    with pytest.raises(ValidationError, match="before the update posted ahead"):
        services.incident_update_edit(update=middle, display_at=at(-5))
    with pytest.raises(ValidationError, match="after the update posted after"):
        services.incident_update_edit(update=middle, display_at=at(25))
    assert snapshot() == before
    services.incident_update_edit(update=middle, display_at=at(15), body="b, edited")
    middle.refresh_from_db()
    assert (middle.display_at, middle.body) == (at(15), "b, edited")


def test_an_edit_to_an_empty_body_is_refused(page):
    incident = services.incident_create(page=page, name="x", body="a", display_at=at(0))
    with pytest.raises(ValidationError, match="body"):
        services.incident_update_edit(update=incident.updates.get(), body="  \n ")
    assert incident.updates.get().body == "a"


def test_pages_validate_their_time_zone_and_the_first_is_the_default(db):
    with pytest.raises(ValidationError, match="time zone"):
        services.page_create(name="Bad", time_zone="Mars/Olympus")
    first = services.page_create(name="First", time_zone="Europe/Paris")
    second = services.page_create(name="Second")
    assert (first.is_default, second.is_default) == (True, False)


@pytest.mark.parametrize(
    ("delta", "text"),
    [
        (timedelta(0), "less than a minute"),
        (timedelta(seconds=59), "less than a minute"),
        (timedelta(seconds=60), "1m"),
        (timedelta(minutes=45), "45m"),
        (timedelta(hours=3, minutes=20), "3h 20m"),
        (timedelta(hours=1, seconds=59), "1h 0m"),
        (timedelta(days=2, hours=4, minutes=5), "2d 4h 5m"),
    ],
)
def test_durations_read_like_the_seeds(delta, text):
    assert format_duration(delta) == text


def test_a_postmortem_follows_the_resolution(page):
    with pytest.raises(ValidationError, match="postmortem follows"):
        services.incident_create(page=page, name="x", body="a", status=I.POSTMORTEM, display_at=at(0))
    incident = services.incident_create(page=page, name="x", body="a", display_at=at(0))
    with pytest.raises(ValidationError, match="Resolve the incident before"):
        services.incident_post_update(incident=incident, status=I.POSTMORTEM, body="b", display_at=at(5))
    services.incident_post_update(incident=incident, status=I.RESOLVED, body="c", display_at=at(10))
    services.incident_post_update(incident=incident, status=I.POSTMORTEM, body="d", display_at=at(20))
    incident.refresh_from_db()
    assert (incident.status, incident.resolved_at) == (I.POSTMORTEM, at(10))


@pytest.mark.parametrize("name", ["Line one\nLine two", "Tab\there", "Bell\x07"])
def test_names_are_one_line_without_control_characters(page, name):
    with pytest.raises(ValidationError, match="one line"):
        services.incident_create(page=page, name=name, body="a", display_at=at(0))
    assert not Incident.objects.exists()


def test_the_duplicate_guard_refuses_the_same_message_until_confirmed(page):
    # With two clicks at once (the lock): tests/test_concurrency.py.
    incident = services.incident_create(page=page, name="x", body="Same  words.", display_at=at(0))
    with time_machine.travel(at(5), tick=False):
        with pytest.raises(ValidationError) as error:
            services.incident_post_update(incident=incident, body="Same words.\n", refuse_duplicate=True)
        assert error.value.error_dict["body"][0].code == "duplicate"
        services.incident_post_update(incident=incident, body="Same words.")  # confirmed: posted
    assert incident.updates.count() == 2


def test_a_back_dated_change_never_lands_before_a_components_latest_change(page, make_component):
    api = make_component()
    with time_machine.travel(at(60), tick=False):
        services.component_set_status(component=api, status=S.DEGRADED_PERFORMANCE)
        incident = services.incident_create(
            page=page, name="x", body="a", components={api: S.MAJOR_OUTAGE}, display_at=at(30)
        )
    times = list(api.status_changes.order_by("id").values_list("new_status", "changed_at"))
    assert times == [(S.DEGRADED_PERFORMANCE, at(60)), (S.MAJOR_OUTAGE, at(60))]
    assert incident.started_at == at(30)  # the timeline still shows the responder's time


def test_a_groups_components_take_the_next_positions_in_turn(page):
    group = services.component_group_create(page=page, name="Delivery")
    made = [services.component_create(page=page, group=group, name=f"Channel {n}") for n in range(3)]
    assert [c.position for c in made] == [0, 1, 2]
