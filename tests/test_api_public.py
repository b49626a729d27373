"""The public API v2 answers in Statuspage's exact shapes, for every page, cached and open to every origin."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from incidents import services
from incidents.choices import ComponentStatus as S
from incidents.choices import IncidentStatus as I
from tests.conftest import clear_cache

PAGE_KEYS = ["id", "name", "url", "time_zone", "updated_at"]
STATUS_KEYS = ["indicator", "description"]
COMPONENT_KEYS = [
    "id", "name", "status", "created_at", "updated_at", "position", "description", "showcase", "start_date",
    "group_id", "page_id", "group", "only_show_if_degraded",
]  # fmt: skip
INCIDENT_KEYS = [
    "id", "name", "status", "created_at", "updated_at", "monitoring_at", "resolved_at", "impact", "shortlink",
    "started_at", "page_id", "incident_updates", "components", "reminder_intervals",
    "next_update_at",  # ours, after Statuspage's keys: the promised next update
]  # fmt: skip
MAINTENANCE_KEYS = [*INCIDENT_KEYS, "scheduled_for", "scheduled_until"]
UPDATE_KEYS = [
    "id", "status", "body", "incident_id", "created_at", "updated_at", "display_at", "affected_components",
    "deliver_notifications", "custom_tweet", "tweet_id",
]  # fmt: skip
AFFECTED_KEYS = ["code", "name", "old_status", "new_status"]
UTC_STAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
ID = re.compile(r"^[a-z0-9]{12}$")


@pytest.fixture
def outage(page, make_component):
    """A page with a group of two, a lone component, an open incident and a resolved one."""
    group = services.component_group_create(page=page, name="Delivery")
    push = make_component("Push", group=group)
    make_component("Email", group=group)
    api = make_component("API", description="The REST API", start_date=datetime(2024, 3, 1).date())
    now = timezone.now()
    old = services.incident_create(
        page=page, name="Old blip", body="Slow.", components={api: S.DEGRADED_PERFORMANCE},
        display_at=now - timedelta(days=3),
    )  # fmt: skip
    services.incident_post_update(
        incident=old, body="Fine now.", status=I.RESOLVED, components={api: S.OPERATIONAL},
        display_at=now - timedelta(days=3, minutes=-30),
    )  # fmt: skip
    open_ = services.incident_create(
        page=page, name="Push delayed", body="Looking into it.", components={push: S.PARTIAL_OUTAGE},
        display_at=now - timedelta(minutes=20),
    )  # fmt: skip
    services.incident_post_update(incident=open_, body="Found it.", status=I.IDENTIFIED, display_at=now)
    return {"group": group, "push": push, "api": api, "old": old, "open": open_}


def get(client, path):
    response = client.get(path)
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/json"
    return response.json()


def assert_component(obj):
    assert list(obj)[: len(COMPONENT_KEYS)] == COMPONENT_KEYS
    assert list(obj) == COMPONENT_KEYS + (["components"] if obj["group"] else [])
    assert ID.match(obj["id"])
    assert UTC_STAMP.match(obj["created_at"])


def assert_incident(obj):
    assert list(obj) == INCIDENT_KEYS
    assert ID.match(obj["id"])
    for update in obj["incident_updates"]:
        assert list(update) == UPDATE_KEYS
        for affected in update["affected_components"] or []:
            assert list(affected) == AFFECTED_KEYS
    for component in obj["components"]:
        assert_component(component)
    shown = [u["display_at"] for u in obj["incident_updates"]]
    assert shown == sorted(shown, reverse=True)


def test_summary_has_page_components_incidents_maintenances_and_status_in_that_order(client, outage):
    body = get(client, "/api/v2/summary.json")
    assert list(body) == ["page", "components", "incidents", "scheduled_maintenances", "status"]
    assert list(body["page"]) == PAGE_KEYS
    assert list(body["status"]) == STATUS_KEYS
    assert body["status"] == {"indicator": "major", "description": "Partial System Outage"}
    for component in body["components"]:
        assert_component(component)
    assert [i["name"] for i in body["incidents"]] == ["Push delayed"]
    for incident in body["incidents"]:
        assert_incident(incident)
    assert body["scheduled_maintenances"] == []


def test_components_list_groups_with_their_children_in_page_order(client, outage):
    components = get(client, "/api/v2/components.json")["components"]
    assert [(c["name"], c["group"]) for c in components] == [
        ("Delivery", True), ("Push", False), ("Email", False), ("API", False),
    ]  # fmt: skip
    delivery, push, email, api = components
    assert delivery["components"] == [push["id"], email["id"]]
    assert delivery["status"] == "partial_outage"
    assert push["group_id"] == delivery["id"]
    assert api["group_id"] is None
    assert api["description"] == "The REST API"
    assert api["start_date"] == "2024-03-01"
    assert push["start_date"] is None
    assert push["description"] is None


def test_an_incident_carries_its_updates_newest_first_with_affected_components(client, outage):
    incident = get(client, f"/api/v2/incidents/{outage['old'].code}.json")["incident"]
    assert_incident(incident)
    resolved, investigating = incident["incident_updates"]
    assert (resolved["status"], investigating["status"]) == ("resolved", "investigating")
    assert investigating["affected_components"] == [
        {"code": outage["api"].code, "name": "API", "old_status": "operational", "new_status": "degraded_performance"}
    ]
    assert resolved["incident_id"] == incident["id"]
    assert resolved["custom_tweet"] is None
    assert resolved["deliver_notifications"] is True
    assert incident["resolved_at"] == resolved["display_at"]
    assert incident["started_at"] == investigating["display_at"]
    assert incident["impact"] == "minor"
    assert incident["shortlink"].endswith(f"/incidents/{incident['id']}")
    assert incident["reminder_intervals"] is None
    assert [c["name"] for c in incident["components"]] == ["API"]


def test_an_update_that_changed_no_component_has_null_affected_components(client, outage):
    incident = get(client, f"/api/v2/incidents/{outage['open'].code}.json")["incident"]
    assert incident["incident_updates"][0]["affected_components"] is None


def test_incidents_json_orders_by_latest_activity_and_keeps_fifty(client, page):
    now = timezone.now()
    for n in range(52):
        services.incident_create(page=page, name=f"N{n}", body="x", display_at=now - timedelta(hours=60 - n))
    first = services.incident_create(page=page, name="Early but busy", body="x", display_at=now - timedelta(days=9))
    services.incident_post_update(incident=first, body="still", display_at=now)
    names = [i["name"] for i in get(client, "/api/v2/incidents.json")["incidents"]]
    assert len(names) == 50
    assert names[:3] == ["Early but busy", "N51", "N50"]


def test_unresolved_lists_only_open_incidents(client, outage):
    assert [i["name"] for i in get(client, "/api/v2/incidents/unresolved.json")["incidents"]] == ["Push delayed"]


@pytest.mark.parametrize(
    "path",
    ["scheduled-maintenances.json", "scheduled-maintenances/upcoming.json", "scheduled-maintenances/active.json"],
)
def test_maintenance_endpoints_answer_the_documented_shape_with_no_maintenance_yet(client, page, path):
    body = get(client, f"/api/v2/{path}")
    assert list(body) == ["page", "scheduled_maintenances"]
    assert body["scheduled_maintenances"] == []


def test_status_json_has_page_then_status(client, outage):
    body = get(client, "/api/v2/status.json")
    assert list(body) == ["page", "status"]
    assert body["page"]["id"] == outage["api"].page.code


def test_every_page_has_its_api_under_its_own_path_in_its_own_time_zone(client, page, other_page):
    services.component_create(page=other_page, name="Paris API")
    body = get(client, f"/p/{other_page.code}/api/v2/components.json")
    assert body["page"]["id"] == other_page.code
    assert body["page"]["time_zone"] == "Europe/Paris"
    assert body["page"]["url"].endswith(f"/p/{other_page.code}/")
    assert [c["name"] for c in body["components"]] == ["Paris API"]
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0[12]:00$", body["components"][0]["created_at"])
    assert get(client, "/api/v2/components.json")["page"]["id"] == page.code


def test_timestamps_have_milliseconds_and_the_page_offset(page):
    from api.fields import timestamp

    moment = datetime(2021, 12, 7, 18, 7, 15, 773000, tzinfo=UTC)
    assert timestamp(moment, page) == "2021-12-07T18:07:15.773Z"
    page.time_zone = "America/Denver"
    assert timestamp(moment, page) == "2021-12-07T11:07:15.773-07:00"


def test_an_unknown_incident_or_page_is_a_json_404(client, page):
    for path in ["/api/v2/incidents/aaaaaaaaaaaa.json", "/p/nosuchpage000/api/v2/summary.json"]:
        response = client.get(path)
        assert response.status_code == 404
        assert "error" in response.json()
        assert response["Access-Control-Allow-Origin"] == "*"


def test_another_pages_incident_is_not_found_under_this_page(client, page, other_page):
    theirs = services.incident_create(page=other_page, name="Theirs", body="x")
    assert client.get(f"/api/v2/incidents/{theirs.code}.json").status_code == 404
    assert client.get(f"/p/{other_page.code}/api/v2/incidents/{theirs.code}.json").status_code == 200


def test_responses_are_open_to_every_origin_with_a_short_max_age_and_an_etag(client, page):
    response = client.get("/api/v2/summary.json")
    assert response["Access-Control-Allow-Origin"] == "*"
    assert response["Access-Control-Expose-Headers"] == "ETag"
    assert "Access-Control-Max-Age" not in response  # the preflight's only, as the methods and headers
    assert "max-age=10" in response["Cache-Control"]
    again = client.get("/api/v2/summary.json", headers={"if-none-match": response["ETag"]})
    assert again.status_code == 304
    assert again["Access-Control-Allow-Origin"] == "*"
    preflight = client.options("/api/v2/summary.json")
    assert preflight.status_code == 204
    assert "If-None-Match" in preflight["Access-Control-Allow-Headers"]
    assert preflight["Access-Control-Allow-Methods"] == "GET, HEAD, OPTIONS"
    assert preflight["Access-Control-Max-Age"] == "86400"


def test_a_change_gives_a_new_etag_and_fresh_content(client, page, make_component):
    api = make_component("API")
    first = client.get("/api/v2/components.json")
    services.component_set_status(component=api, status=S.MAJOR_OUTAGE)
    after = client.get("/api/v2/components.json", headers={"if-none-match": first["ETag"]})
    assert after.status_code == 200
    assert after.json()["components"][0]["status"] == "major_outage"


def test_the_public_api_refuses_writes(client, page):
    response = client.post("/api/v2/summary.json", {})
    assert response.status_code == 405
    assert response.json() == {"error": "Method POST not allowed."}


def _queries(client, path) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(path).status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("path", ["summary.json", "incidents.json", "components.json", "incidents/unresolved.json"])
def test_query_counts_do_not_grow_with_the_page_and_a_cached_hit_costs_none(client, page, make_component, path):
    def grow(n):
        group = services.component_group_create(page=page, name=f"G{n}")
        parts = [make_component(f"C{n}-{k}", group=group if k % 2 else None) for k in range(4)]
        for k in range(3):
            incident = services.incident_create(
                page=page, name=f"I{n}{k}", body="x", components={parts[k]: S.MAJOR_OUTAGE}
            )
            services.incident_post_update(incident=incident, body="y", components={parts[k + 1]: S.PARTIAL_OUTAGE})

    grow(0)
    small = _queries(client, f"/api/v2/{path}")
    grow(1)
    grow(2)
    assert _queries(client, f"/api/v2/{path}") == small
    assert _queries(client, f"/api/v2/{path}") == 0


@pytest.mark.parametrize(
    "path",
    ["/api/v2/nothing.json", "/api/v3/summary.json", "/api/v1/pages/", "/api/", "/api/v2/summary.json/extra"],
)
def test_an_unknown_api_path_answers_a_json_404(client, page, path):
    for url in (path, f"/p/{page.code}{path}"):
        for method in ("get", "post", "delete"):
            response = getattr(client, method)(url)
            assert response.status_code == 404, (method, url)
            assert response["Content-Type"] == "application/json"
            assert response.json() == {
                "error": f"No such API endpoint: {method.upper()} {url} is not a call this server answers."
            }


def test_a_wrong_method_on_an_api_path_answers_a_json_405(client, page, admin_key):
    for url, method in [
        ("/api/v2/summary.json", "delete"),
        (f"/api/v1/pages/{page.code}/incidents", "delete"),
        (f"/api/v1/pages/{page.code}/metrics", "post"),
        ("/api/schema", "post"),
        ("/api/docs", "put"),
    ]:
        response = getattr(client, method)(url, headers={"Authorization": f"OAuth {admin_key}"})
        assert response.status_code == 405, (url, method)
        assert response["Content-Type"] == "application/json"
        assert "error" in response.json()
    assert client.get("/api/v2/summary.json").status_code == 200  # the real paths still answer


def test_a_cold_summary_loads_incidents_and_maintenances_in_one_go(client, outage):
    """Page, components (2), open incidents and current maintenances with their component links, then their
    updates with their changes (2, the components taken from those read already), nothing else."""

    clear_cache()
    assert _queries(client, "/api/v2/summary.json") == 5
