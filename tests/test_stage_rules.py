"""What a stage does to the components is the service's rule (incidents/services/stages.py), whoever posts.

- A maintenance in progress puts its components under maintenance; completed gives them back their status.
- Resolving sets the affected components back to operational when the caller asks for it: the admin does; the
  manage API keeps Statuspage's behaviour (only the `components` given change).
A status chosen explicitly always wins over the stage's preset.
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from incidents import services
from incidents.choices import ComponentStatus as S
from incidents.models import Component, Incident
from incidents.services.maintenance import maintenance_create


@pytest.fixture
def parts(page):
    return {
        "api": services.component_create(page=page, name="API"),
        "web": services.component_create(page=page, name="Web"),
        "db": services.component_create(page=page, name="Database"),
    }


def statuses(parts):
    return {name: Component.objects.get(pk=c.pk).status for name, c in parts.items()}


def outage(page, parts):
    return services.incident_create(
        page=page,
        name="Outage",
        body="Looking.",
        components={parts["api"]: S.MAJOR_OUTAGE, parts["web"]: S.PARTIAL_OUTAGE},
    )


def maintenance(page, parts, *components):
    now = timezone.now()
    return maintenance_create(
        page=page, name="Upgrade", body="Upgrading.", components=list(components),
        scheduled_for=now + timedelta(hours=1), scheduled_until=now + timedelta(hours=3), auto_in_progress=False,
    )  # fmt: skip


# -- through the service ----------------------------------------------------------------------------------


def test_the_service_applies_the_maintenance_stages_without_being_told(page, parts):
    services.component_set_status(component=parts["db"], status=S.DEGRADED_PERFORMANCE)
    work = maintenance(page, parts, parts["api"], parts["db"])
    services.incident_post_update(incident=work, status="in_progress", body="Started.")
    assert statuses(parts) == {"api": S.UNDER_MAINTENANCE, "web": S.OPERATIONAL, "db": S.UNDER_MAINTENANCE}
    services.incident_post_update(incident=work, status="completed", body="Done.")
    assert statuses(parts) == {"api": S.OPERATIONAL, "web": S.OPERATIONAL, "db": S.DEGRADED_PERFORMANCE}


def test_a_status_chosen_wins_over_the_stage(page, parts):
    work = maintenance(page, parts, parts["api"], parts["db"])
    services.incident_post_update(
        incident=work, status="in_progress", body="Started.", components={parts["db"]: S.PARTIAL_OUTAGE}
    )
    assert statuses(parts)["db"] == S.PARTIAL_OUTAGE
    incident = outage(page, parts)
    services.incident_post_update(
        incident=incident, status="resolved", body="Fixed.", components={parts["web"]: S.DEGRADED_PERFORMANCE},
        operational_on_resolve=True,
    )  # fmt: skip
    assert statuses(parts)["web"] == S.DEGRADED_PERFORMANCE
    assert statuses(parts)["api"] == S.OPERATIONAL


def test_resolving_restores_the_affected_components_only_when_asked(page, parts):
    kept = outage(page, parts)
    services.incident_post_update(incident=kept, status="resolved", body="Fixed.")
    assert statuses(parts) == {"api": S.MAJOR_OUTAGE, "web": S.PARTIAL_OUTAGE, "db": S.OPERATIONAL}
    restored = outage(page, parts)
    services.incident_post_update(incident=restored, status="resolved", body="Fixed.", operational_on_resolve=True)
    assert statuses(parts) == {"api": S.OPERATIONAL, "web": S.OPERATIONAL, "db": S.OPERATIONAL}
    # Each restored status is a change of that incident's resolving update, in the component's history.
    assert {c.component.name for c in restored.updates.order_by("-id")[0].component_changes.all()} == {"API", "Web"}


# -- through the admin ------------------------------------------------------------------------------------------


@pytest.fixture
def logged_in(client, responder):
    client.force_login(responder)
    return client


def admin_post(client, incident, **data):
    response = client.post(f"/admin/incidents/incident/{incident.pk}/change/", data)
    assert response.status_code == 302, response.content.decode()[:2000]


def test_the_admin_resolves_components_back_to_operational_unless_chosen(logged_in, page, parts):
    incident = outage(page, parts)
    admin_post(
        logged_in,
        incident,
        status="resolved",
        body="Fixed.",
        **{f"component_{parts['web'].code}": "degraded_performance"},
    )
    assert statuses(parts) == {"api": S.OPERATIONAL, "web": S.DEGRADED_PERFORMANCE, "db": S.OPERATIONAL}


def test_the_admin_moves_a_maintenance_through_its_stages(logged_in, page, parts):
    work = maintenance(page, parts, parts["db"])
    admin_post(logged_in, work, status="in_progress", body="Started.")
    assert statuses(parts)["db"] == S.UNDER_MAINTENANCE
    admin_post(logged_in, work, status="completed", body="Done.")
    assert statuses(parts)["db"] == S.OPERATIONAL


# -- through the manage API ------------------------------------------------------------------------------------------


def test_the_api_keeps_statuspages_resolve_only_the_components_given_change(responder_api, page, parts):
    incident = outage(page, parts)
    response = responder_api.patch(f"incidents/{incident.code}", {"incident": {"status": "resolved"}})
    assert response.status_code == 200, response.content
    assert Incident.objects.get(pk=incident.pk).status == "resolved"
    assert statuses(parts) == {"api": S.MAJOR_OUTAGE, "web": S.PARTIAL_OUTAGE, "db": S.OPERATIONAL}
    again = outage(page, parts)
    body = {"status": "resolved", "components": {parts["api"].code: "operational"}}
    assert responder_api.patch(f"incidents/{again.code}", {"incident": body}).status_code == 200
    assert statuses(parts) == {"api": S.OPERATIONAL, "web": S.PARTIAL_OUTAGE, "db": S.OPERATIONAL}


def test_the_api_moves_a_maintenance_through_its_stages(admin_api, page, parts):
    work = maintenance(page, parts, parts["db"], parts["web"])
    body = {"status": "in_progress", "components": {parts["web"].code: "degraded_performance"}}
    assert admin_api.patch(f"incidents/{work.code}", {"incident": body}).status_code == 200
    assert statuses(parts) == {"api": S.OPERATIONAL, "web": S.DEGRADED_PERFORMANCE, "db": S.UNDER_MAINTENANCE}
    assert admin_api.patch(f"incidents/{work.code}", {"incident": {"status": "completed"}}).status_code == 200
    assert statuses(parts)["db"] == S.OPERATIONAL
