"""The database refuses the rows the services refuse (a write that slips past them fails whole)."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from incidents import services
from incidents.models import ComponentStatusChange, Incident
from incidents.services.maintenance import maintenance_complete, maintenance_create


@pytest.fixture
def window():
    start = timezone.now() + timedelta(days=1)
    return start, start + timedelta(hours=2)


def refused(queryset, **values):
    with pytest.raises(IntegrityError), transaction.atomic():
        queryset.update(**values)


def test_a_maintenance_ends_after_it_starts(page, window):
    start, end = window
    with pytest.raises(ValidationError):
        maintenance_create(page=page, name="Swap", body="b", scheduled_for=end, scheduled_until=start)
    maintenance = maintenance_create(page=page, name="Swap", body="b", scheduled_for=start, scheduled_until=end)
    rows = Incident.objects.filter(pk=maintenance.pk)
    refused(rows, scheduled_until=start)
    refused(rows, scheduled_until=start - timedelta(minutes=1))
    assert rows.get().scheduled_until == end


def test_an_incident_is_not_resolved_before_it_started(page, make_component):
    incident = services.incident_create(page=page, name="Down", body="Looking.", status="resolved")
    assert incident.resolved_at >= incident.started_at
    rows = Incident.objects.filter(pk=incident.pk)
    refused(rows, resolved_at=incident.started_at - timedelta(seconds=1))
    rows.update(resolved_at=incident.started_at)  # the same instant is fine


def test_a_maintenance_called_off_before_its_window_may_still_be_completed(page, window):
    start, end = window
    maintenance = maintenance_create(page=page, name="Swap", body="b", scheduled_for=start, scheduled_until=end)
    maintenance_complete(maintenance=maintenance)
    maintenance.refresh_from_db()
    assert maintenance.resolved_at < maintenance.started_at


def test_a_status_change_changes_the_status(page, make_component):
    api = make_component("API")
    services.component_set_status(component=api, status="major_outage")
    change = api.status_changes.get()
    with pytest.raises(IntegrityError), transaction.atomic():
        ComponentStatusChange.objects.create(
            component=api, old_status="operational", new_status="operational", changed_at=timezone.now()
        )
    refused(ComponentStatusChange.objects.filter(pk=change.pk), new_status=change.old_status)
