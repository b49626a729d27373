"""Scheduled maintenance, promises and metrics through the APIs."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from incidents import services
from incidents.tasks import advance_maintenances
from tests.test_api_public import MAINTENANCE_KEYS, get

NOW = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def database(page):
    return services.component_create(page=page, name="Database")


def schedule(api, database, **extra):
    return api.send("post", "incidents", {"incident": {
        "name": "Database upgrade", "body": "Upgrading the database.", "component_ids": [database.code],
        "scheduled_for": "2025-03-12T01:00:00Z", "scheduled_until": "2025-03-12T03:00:00Z",
        "scheduled_auto_in_progress": True, "scheduled_auto_completed": True, **extra,
    }})  # fmt: skip


def test_posting_a_window_schedules_a_maintenance(admin_api, database, clock):
    response = schedule(admin_api, database)
    assert response.status_code == 201, response.content
    body = response.json()
    assert list(body)[: len(MAINTENANCE_KEYS)] == MAINTENANCE_KEYS
    assert (body["status"], body["impact"]) == ("scheduled", "maintenance")
    assert (body["scheduled_for"], body["scheduled_until"]) == ("2025-03-12T01:00:00.000Z", "2025-03-12T03:00:00.000Z")
    assert [c["id"] for c in body["components"]] == [database.code]


def test_a_window_that_ends_before_it_starts_is_refused(admin_api, database, clock):
    response = schedule(admin_api, database, scheduled_until="2025-03-11T00:00:00Z")
    assert response.status_code == 422
    assert "end after it starts" in response.json()["error"]


def test_the_public_maintenance_endpoints_follow_its_stages(client, admin_api, database, clock):
    code = schedule(admin_api, database).json()["id"]
    upcoming = get(client, "/api/v2/scheduled-maintenances/upcoming.json")["scheduled_maintenances"]
    assert [m["id"] for m in upcoming] == [code]
    assert list(upcoming[0]) == MAINTENANCE_KEYS
    assert get(client, "/api/v2/scheduled-maintenances/active.json")["scheduled_maintenances"] == []
    assert [m["id"] for m in get(client, "/api/v2/summary.json")["scheduled_maintenances"]] == [code]
    assert get(client, "/api/v2/incidents.json")["incidents"] == []  # a maintenance is not an incident
    clock.move_to(datetime(2025, 3, 12, 1, 0, 30, tzinfo=UTC))
    advance_maintenances()
    active = get(client, "/api/v2/scheduled-maintenances/active.json")["scheduled_maintenances"]
    assert [(m["id"], m["status"]) for m in active] == [(code, "in_progress")]
    assert active[0]["incident_updates"][0]["affected_components"] == [
        {"code": database.code, "name": "Database", "old_status": "operational", "new_status": "under_maintenance"}
    ]
    assert get(client, "/api/v2/status.json")["status"]["indicator"] == "maintenance"
    assert [m["id"] for m in get(client, "/api/v2/scheduled-maintenances.json")["scheduled_maintenances"]] == [code]


def test_the_manage_lists_and_a_manual_stage_change(admin_api, database, clock):
    code = schedule(admin_api, database, scheduled_auto_in_progress=False).json()["id"]
    assert [m["id"] for m in admin_api.get("incidents/scheduled").json()] == [code]
    assert [m["id"] for m in admin_api.get("incidents/upcoming").json()] == [code]
    assert admin_api.get("incidents/active_maintenance").json() == []
    started = admin_api.send("patch", f"incidents/{code}", {"incident": {"status": "in_progress"}})
    assert started.status_code == 200, started.content
    assert started.json()["incident_updates"][0]["body"].startswith("The scheduled maintenance is in progress")
    database.refresh_from_db()
    assert database.status == "under_maintenance"
    assert [m["id"] for m in admin_api.get("incidents/active_maintenance").json()] == [code]
    done = admin_api.send("patch", f"incidents/{code}", {"incident": {"status": "completed"}})
    assert done.json()["status"] == "completed"
    database.refresh_from_db()
    assert database.status == "operational"
    refused = admin_api.send("patch", f"incidents/{code}", {"incident": {"status": "resolved", "body": "x"}})
    assert refused.status_code == 422


def test_an_update_can_promise_the_next_one_and_the_incident_carries_metrics(client, admin_api, clock):
    created = admin_api.send(
        "post", "incidents", {"incident": {"name": "Slow API", "body": "Looking.", "next_update_in": 30}}
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["next_update_at"] == "2025-03-10T12:30:00.000Z"
    assert body["metrics"] == {
        "time_to_identify": None, "time_to_monitoring": None, "time_to_resolution": None, "updates": 1,
        "promises_kept": 0, "promises_broken": 0, "promises_pending": 1,
    }  # fmt: skip
    public = get(client, f"/api/v2/incidents/{body['id']}.json")["incident"]
    assert public["next_update_at"] == "2025-03-10T12:30:00.000Z"
    assert "metrics" not in public
    clock.shift(timedelta(minutes=20))
    patched = admin_api.send(
        "patch", f"incidents/{body['id']}", {"incident": {"status": "identified", "body": "Found."}}
    )
    assert patched.json()["next_update_at"] is None
    assert patched.json()["metrics"]["time_to_identify"] == 20 * 60
    assert patched.json()["metrics"]["promises_kept"] == 1
    too_far = admin_api.send("patch", f"incidents/{body['id']}", {"incident": {"body": "x", "next_update_in": 99999}})
    assert too_far.status_code == 422


def test_the_page_metrics_give_the_mean_time_to_resolve_by_component(admin_api, page, clock):
    api = services.component_create(page=page, name="API")
    incident = services.incident_create(page=page, name="x", body="a", affected=[api],
                                        display_at=NOW - timedelta(days=3))  # fmt: skip
    services.incident_post_update(incident=incident, status="resolved", body="b",
                                  display_at=NOW - timedelta(days=3) + timedelta(minutes=50))  # fmt: skip
    body = admin_api.get("metrics").json()
    assert body == {"days": 90, "mean_time_to_resolve": [{"component": "API", "seconds": 3000, "incidents": 1}]}
