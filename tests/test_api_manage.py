"""The manage API v1 writes through the services, takes JSON and form bodies, and answers every error as JSON."""

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from incidents import page_services, services
from incidents.choices import ComponentStatus as S
from incidents.models import Component, ComponentGroup, ComponentStatusChange, Incident, IncidentTemplate


@pytest.fixture
def api_component(make_component):
    return make_component("API")


def test_declaring_an_incident_sets_component_statuses_and_answers_the_v2_object(admin_api, api_component, page):
    response = admin_api.post(
        "incidents",
        {"incident": {"name": "Slow API", "status": "investigating", "body": "Looking.",
                      "components": {api_component.code: "partial_outage"}, "deliver_notifications": False,
                      "unknown_field": "ignored"}},
    )  # fmt: skip
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["name"] == "Slow API"
    assert body["impact"] == "major"
    assert body["page_id"] == page.code
    assert body["incident_updates"][0]["deliver_notifications"] is False
    assert body["incident_updates"][0]["affected_components"][0]["new_status"] == "partial_outage"
    api_component.refresh_from_db()
    assert api_component.status == S.PARTIAL_OUTAGE
    incident = Incident.objects.get(code=body["id"])
    assert incident.updates.get().deliver_notifications is False


def test_form_encoded_bodies_work_with_brackets(client, page, admin_key, api_component, make_component):
    web = make_component("Web")
    response = client.post(
        f"/api/v1/pages/{page.code}/incidents",
        {"incident[name]": "Form declared", "incident[body]": "Hello",
         f"incident[components][{api_component.code}]": "major_outage", "incident[component_ids][]": [web.code]},
        headers={"Authorization": f"OAuth {admin_key}"},
    )  # fmt: skip
    assert response.status_code == 201, response.content
    incident = Incident.objects.get(code=response.json()["id"])
    assert set(incident.components.values_list("name", flat=True)) == {"API", "Web"}
    api_component.refresh_from_db()
    assert api_component.status == S.MAJOR_OUTAGE
    web.refresh_from_db()
    assert web.status == S.OPERATIONAL


def test_patching_status_and_body_posts_an_update_with_component_changes(responder_api, api_component, page):
    incident = services.incident_create(page=page, name="Slow", body="a", components={api_component: S.MAJOR_OUTAGE})
    response = responder_api.patch(
        f"incidents/{incident.code}",
        {"incident": {"status": "resolved", "body": "Fixed.", "components": {api_component.code: "operational"}}},
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "resolved"
    assert [u["status"] for u in body["incident_updates"]] == ["resolved", "investigating"]
    assert body["resolved_at"] == body["incident_updates"][0]["display_at"]
    assert ComponentStatusChange.objects.filter(update__incident=incident).count() == 2


def test_a_status_without_a_message_posts_statuspages_default_message(responder_api, page):
    created = responder_api.post("incidents", {"incident": {"name": "Paging"}})
    assert created.status_code == 201
    assert created.json()["incident_updates"][0]["body"] == "We are currently investigating this issue."
    resolved = responder_api.patch(f"incidents/{created.json()['id']}", {"incident": {"status": "resolved"}})
    assert resolved.status_code == 200
    assert resolved.json()["incident_updates"][0]["body"] == "This incident has been resolved."
    postmortem = responder_api.patch(f"incidents/{created.json()['id']}", {"incident": {"status": "postmortem"}})
    assert postmortem.status_code == 422


def test_put_behaves_as_patch_and_a_name_alone_posts_no_update(responder_api, page):
    incident = services.incident_create(page=page, name="Slow", body="a")
    response = responder_api.put(f"incidents/{incident.code}", {"incident": {"name": "Slow logins"}})
    assert response.status_code == 200
    assert response.json()["name"] == "Slow logins"
    assert incident.updates.count() == 1


def test_deleting_an_incident_answers_it_and_removes_it(admin_api, responder_api, page):
    incident = services.incident_create(page=page, name="Oops", body="a")
    refused = responder_api.delete(f"incidents/{incident.code}")  # as in the admin: page admins only
    assert refused.status_code == 403
    assert "incidents.delete_incident" in refused.json()["error"]
    response = admin_api.delete(f"incidents/{incident.code}")
    assert response.status_code == 200
    assert response.json()["id"] == incident.code
    assert not Incident.objects.exists()
    assert responder_api.get(f"incidents/{incident.code}").status_code == 404


def test_editing_an_update_changes_body_display_time_and_notification_flag(responder_api, page):
    incident = services.incident_create(page=page, name="Slow", body="a")
    update = incident.updates.get()
    response = responder_api.patch(
        f"incidents/{incident.code}/incident_updates/{update.code}",
        {
            "incident_update": {
                "body": "Better words",
                "display_at": "2025-06-06T17:41:00Z",
                "deliver_notifications": False,
            }
        },
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["body"] == "Better words"
    assert body["display_at"] == "2025-06-06T17:41:00.000Z"
    assert body["deliver_notifications"] is False
    incident.refresh_from_db()
    assert incident.started_at.isoformat() == "2025-06-06T17:41:00+00:00"


def test_incident_lists_paginate_and_search(responder_api, page):
    for n in range(5):
        services.incident_create(page=page, name=f"Incident {n}", body="disk full" if n == 3 else "slow")
    assert len(responder_api.get("incidents", per_page=2).json()) == 2
    assert len(responder_api.get("incidents", per_page=2, page=3).json()) == 1
    assert [i["name"] for i in responder_api.get("incidents", q="disk").json()] == ["Incident 3"]
    assert [i["name"] for i in responder_api.get("incidents", q="incident 1").json()] == ["Incident 1"]
    assert len(responder_api.get("incidents/unresolved").json()) == 5
    for kind in ("scheduled", "upcoming", "active_maintenance"):
        assert responder_api.get(f"incidents/{kind}").json() == []


def test_components_can_be_created_read_changed_and_deleted(admin_api, page):
    group = services.component_group_create(page=page, name="Delivery")
    created = admin_api.post(
        "components",
        {"component": {"name": "Push", "description": "Mobile", "group_id": group.code, "showcase": False,
                       "only_show_if_degraded": True, "start_date": "2024-01-31", "status": "degraded_performance"}},
    )  # fmt: skip
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["group_id"], body["showcase"], body["start_date"], body["status"]) == (
        group.code, False, "2024-01-31", "degraded_performance",
    )  # fmt: skip
    code = body["id"]
    assert admin_api.get(f"components/{code}").json() == body
    changed = admin_api.patch(
        f"components/{code}", {"component": {"name": "Push v2", "group_id": None, "status": "operational"}}
    )
    assert changed.status_code == 200
    assert (changed.json()["name"], changed.json()["group_id"], changed.json()["status"]) == (
        "Push v2",
        None,
        "operational",
    )
    assert [c["id"] for c in admin_api.get("components").json()] == [code]
    assert admin_api.delete(f"components/{code}").status_code == 204
    assert not Component.objects.exists()


def test_component_groups_hold_the_components_they_are_given(admin_api, page, make_component):
    a, b, c = make_component("A"), make_component("B"), make_component("C")
    created = admin_api.post("component-groups", {"component_group": {"name": "Edge", "components": [a.code, b.code]}})
    assert created.status_code == 201, created.content
    group = created.json()
    assert group["group"] is True
    assert group["components"] == [a.code, b.code]
    changed = admin_api.patch(f"component-groups/{group['id']}", {"component_group": {"components": [c.code]}})
    assert changed.json()["components"] == [c.code]
    assert Component.objects.get(pk=a.pk).group is None
    assert [g["id"] for g in admin_api.get("component-groups").json()] == [group["id"]]
    assert admin_api.get(f"component-groups/{group['id']}").json()["name"] == "Edge"
    assert admin_api.delete(f"component-groups/{group['id']}").status_code == 200
    assert not ComponentGroup.objects.exists()
    assert Component.objects.count() == 3


def test_incident_templates_can_be_listed_and_created(admin_api, api_component):
    created = admin_api.post(
        "incident_templates",
        {"incident_template": {"name": "DB failover", "title": "Database failover", "body": "We are failing over.",
                               "update_status": "identified", "component_ids": [api_component.code]}},
    )  # fmt: skip
    assert created.status_code == 201, created.content
    body = created.json()
    assert list(body) == [
        "id", "name", "title", "body", "group_id", "update_status", "should_tweet", "should_send_notifications", "components",
        "component_statuses",
    ]  # fmt: skip
    assert body["components"][0]["id"] == api_component.code
    assert IncidentTemplate.objects.get().update_status == "identified"
    assert [t["name"] for t in admin_api.get("incident_templates").json()] == ["DB failover"]


# -- errors ------------------------------------------------------------------------------------------


def raw(client, page, key, method, path, data, content_type="application/json"):
    return getattr(client, method)(
        f"/api/v1/pages/{page.code}/{path}", data, content_type=content_type, headers={"Authorization": f"OAuth {key}"}
    )


@pytest.mark.parametrize(
    "data",
    ["{not json", "[1, 2]", '"incident"', "{}", '{"incident": "name"}', '{"component": {"name": "x"}}', "null"],
)
def test_a_malformed_body_is_400(client, page, admin_key, data):
    response = raw(client, page, admin_key, "post", "incidents", data)
    assert response.status_code == 400
    assert set(response.json()) == {"error"}


@pytest.mark.parametrize(
    "incident",
    [
        {"name": "x", "body": "y", "status": "exploded"},
        {"name": "", "body": "y"},
        {"name": "x", "body": "", "status": "postmortem"},
        {"name": "x" * 201, "body": "y"},
        {"name": ["x"], "body": "y"},
        {"name": "x", "body": "y", "components": {"aaaaaaaaaaaa": "major_outage"}},
        {"name": "x", "body": "y", "components": {"not an id": "major_outage"}},
        {"name": "x", "body": "y", "components": ["aaaaaaaaaaaa"]},
        {"name": "x", "body": "y", "component_ids": "aaaaaaaaaaaa"},
        {"name": "x", "body": "y", "impact_override": "apocalyptic"},
        {"name": "x", "body": "y", "deliver_notifications": "perhaps"},
        {"name": "x\x00", "body": "y"},
        {"name": "x", "body": "y", "backfilled": True, "backfill_date": "2999-01-01T00:00:00Z"},
    ],
)
def test_invalid_values_are_422_and_change_nothing(admin_api, page, incident):
    before = page.version
    response = admin_api.post("incidents", {"incident": incident})
    assert response.status_code == 422, response.content
    assert set(response.json()) == {"error"}
    assert not Incident.objects.exists()
    page.refresh_from_db()
    assert page.version == before


def test_a_component_of_another_page_is_an_invalid_value(admin_api, other_page):
    theirs = services.component_create(page=other_page, name="Theirs")
    response = admin_api.post(
        "incidents", {"incident": {"name": "x", "body": "y", "components": {theirs.code: "major_outage"}}}
    )
    assert response.status_code == 422
    assert theirs.code in response.json()["error"]


def test_an_update_shown_out_of_order_is_422(responder_api, page):
    incident = services.incident_create(page=page, name="x", body="a")
    services.incident_post_update(incident=incident, body="b")
    first = incident.updates.order_by("id").first()
    response = responder_api.patch(
        f"incidents/{incident.code}/incident_updates/{first.code}",
        {"incident_update": {"display_at": "2999-01-01T00:00:00Z"}},
    )
    assert response.status_code == 422


@pytest.mark.parametrize(
    "path", ["incidents/aaaaaaaaaaaa", "components/aaaaaaaaaaaa", "component-groups/aaaaaaaaaaaa",
             "incidents/aaaaaaaaaaaa/incident_updates/aaaaaaaaaaaa"],
)  # fmt: skip
def test_unknown_ids_are_404(admin_api, path):
    response = admin_api.patch(path, {"x": {}})
    assert response.status_code == 404
    assert set(response.json()) == {"error"}


def test_an_unknown_page_is_404(client, db, admin_key):
    response = client.get("/api/v1/pages/nosuchpage00/incidents", headers={"Authorization": f"OAuth {admin_key}"})
    assert response.status_code == 404
    assert set(response.json()) == {"error"}


@pytest.mark.parametrize(
    "params", [{"page": "x"}, {"per_page": "0"}, {"per_page": "101"}, {"page": "99999999999999999999"}, {"q": "a\x00b"}]
)
def test_bad_list_parameters_are_422(responder_api, params):
    assert responder_api.get("incidents", **params).status_code == 422


def test_a_json_body_that_is_too_deep_or_odd_never_gives_500(client, page, admin_key):
    for data in [
        "{" * 5000,
        '{"incident": {"name": 1e999, "body": "y"}}',
        b"\xff\xfe",
        '{"incident": {"components": {"\\ud800": "x"}}}',
    ]:
        response = raw(client, page, admin_key, "post", "incidents", data)
        assert response.status_code < 500, (data, response.content)
        assert response.status_code in (201, 400, 422), (data, response.content)
    assert json.loads(raw(client, page, admin_key, "post", "incidents", "{").content)["error"]


def test_manage_lists_cost_the_same_queries_however_many_objects(responder_api, page, make_component):
    def grow(n):
        parts = [make_component(f"C{n}-{k}") for k in range(3)]
        incident = services.incident_create(page=page, name=f"I{n}", body="x", components={parts[0]: S.MAJOR_OUTAGE})
        services.incident_post_update(incident=incident, body="y", components={parts[1]: S.PARTIAL_OUTAGE})
        page_services.incident_template_create(page=page, name=f"T{n}", title="t", body="b", components=parts)

    def count(path):
        with CaptureQueriesContext(connection) as ctx:
            assert responder_api.get(path).status_code == 200
        return len(ctx.captured_queries)

    grow(0)
    responder_api.get("incidents")  # the key's first use of the minute records last_used_at
    before = {path: count(path) for path in ("incidents", "components", "component-groups", "incident_templates")}
    for n in range(1, 4):
        grow(n)
    assert {path: count(path) for path in before} == before


def test_put_is_patch_on_every_endpoint_that_patches(admin_api, page, make_component):
    """Statuspage takes PUT as a partial update wherever it takes PATCH (one rule in ManageView)."""
    group = services.component_group_create(page=page, name="Edge")
    incident = services.incident_create(page=page, name="Slow", body="a")
    update = incident.updates.get()
    component = make_component("API")
    answers = [
        admin_api.put(f"incidents/{incident.code}", {"incident": {"name": "Slower"}}),
        admin_api.put(f"incidents/{incident.code}/incident_updates/{update.code}", {"incident_update": {"body": "b"}}),
        admin_api.put(f"components/{component.code}", {"component": {"description": "REST"}}),
        admin_api.put(f"component-groups/{group.code}", {"component_group": {"description": "CDN"}}),
    ]
    assert [a.status_code for a in answers] == [200, 200, 200, 200], [a.content for a in answers]
    incident.refresh_from_db(), update.refresh_from_db(), component.refresh_from_db(), group.refresh_from_db()
    assert (incident.name, update.body, component.name, component.description) == ("Slower", "b", "API", "REST")
    assert (group.name, group.description) == ("Edge", "CDN")
    assert admin_api.put("incidents", {"incident": {"name": "x"}}).status_code == 405  # a list has no PATCH
