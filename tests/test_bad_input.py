"""No input gives a 500 on the APIs or the admin forms: deep nesting, huge bodies, control characters."""

import json

import pytest
from rest_framework.exceptions import ParseError

from api.errors import exception_handler
from api.inputs import MAX_JSON_DEPTH, json_depth
from incidents import services
from incidents.models import Component, Incident

WRITES = [
    ("post", "incidents", "incident"),
    ("post", "components", "component"),
    ("post", "component-groups", "component_group"),
    ("post", "incident_templates", "incident_template"),
    ("post", "subscribers", "subscriber"),
]


def send_raw(api, method, path, text, content_type="application/json"):
    return getattr(api.client, method)(api.url(path), text, content_type=content_type, headers=api.headers())


def assert_error(response, status):
    assert response.status_code == status, response.content
    body = response.json()
    assert list(body) == ["error"]
    return body["error"]


@pytest.mark.parametrize(("method", "path", "wrapper"), WRITES)
def test_a_body_nested_1000_levels_deep_is_a_400_not_a_500(admin_api, method, path, wrapper):
    deep_array = "[" * 1000 + "]" * 1000
    deep_object = '{"a":' * 1000 + "1" + "}" * 1000
    for text in (
        f'{{"{wrapper}": {{"name": {deep_array}}}}}',
        f'{{"{wrapper}": {{"name": {deep_object}}}}}',
        f'{{"{wrapper}":' * 1000 + "{}" + "}" * 1000,
        deep_array,
    ):
        message = assert_error(send_raw(admin_api, method, path, text), 400)
        assert "nested" in message


def test_a_body_nested_a_little_is_read_as_usual(admin_api, page):
    assert json_depth(b'{"incident": {"name": "[[[{{{", "components": {}}}') == 3
    response = send_raw(admin_api, "post", "incidents", json.dumps({"incident": {"name": "[[{{", "body": "]]}}"}}))
    assert response.status_code == 201, response.content
    nested = {"incident": {"name": "x", "body": "y", "component_ids": [[[["a"]]]]}}
    assert_error(send_raw(admin_api, "post", "incidents", json.dumps(nested)), 422)  # wrong type, not too deep
    assert json_depth(json.dumps(nested).encode()) < MAX_JSON_DEPTH


def test_a_form_body_nested_1000_levels_deep_is_refused_cleanly(admin_api, page):
    key = "incident" + "[a]" * 1000
    response = admin_api.send_form("post", "incidents", [(key, "x")])
    assert response.status_code in (400, 422), response.content
    assert "error" in response.json()


def test_a_body_over_the_upload_limit_is_a_413(admin_api, page, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    response = admin_api.post("incidents", {"incident": {"name": "Big", "body": "x" * 20_000}})
    assert "at most 10,000 bytes" in assert_error(response, 413)
    assert not Incident.objects.exists()


def test_a_recursion_error_anywhere_in_a_view_is_a_400():
    response = exception_handler(RecursionError("maximum recursion depth exceeded"), {})
    assert (response.status_code, response.data) == (400, {"error": "The body is nested too deeply."})
    assert exception_handler(ParseError("bad"), {}).status_code == 400


# -- control characters -------------------------------------------------------------------------------------


@pytest.fixture
def targets(page):
    api = services.component_create(page=page, name="API")
    incident = services.incident_create(page=page, name="Slow", body="Looking.")
    return {"component": api, "incident": incident, "update": incident.updates.get()}


def nul_bodies(targets):
    component, incident, update = targets["component"], targets["incident"], targets["update"]
    return [
        ("post", "incidents", {"incident": {"name": "Bad\x00name", "body": "ok"}}),
        ("post", "incidents", {"incident": {"name": "ok", "body": "bad\x00body"}}),
        ("post", "incidents", {"incident": {"name": "ok", "body": "ok", "components": {"api\x00": "major_outage"}}}),
        ("post", "incidents", {"incident": {"name": "ok", "body": "ok", "component_ids": ["abc\x00"]}}),
        ("patch", f"incidents/{incident.code}", {"incident": {"body": "more\x00"}}),
        ("patch", f"incidents/{incident.code}", {"incident": {"name": "re\x00named"}}),
        ("patch", f"incidents/{incident.code}/incident_updates/{update.code}", {"incident_update": {"body": "\x00"}}),
        ("post", "components", {"component": {"name": "DB\x00"}}),
        ("patch", f"components/{component.code}", {"component": {"description": "a\x00b"}}),
        ("post", "component-groups", {"component_group": {"name": "G\x00"}}),
        ("post", "incident_templates", {"incident_template": {"name": "T", "title": "T\x00", "body": "b"}}),
        ("post", "incident_templates", {"incident_template": {"name": "T", "title": "T", "body": "b\x00"}}),
        ("post", "subscribers", {"subscriber": {"email": "a\x00@example.com"}}),
    ]


def test_a_nul_character_in_any_string_field_is_a_422(admin_api, targets):
    for method, path, body in nul_bodies(targets):
        message = assert_error(admin_api.send(method, path, body), 422)
        assert "null" in message.lower() or "nul" in message.lower() or "not a" in message.lower(), (path, message)
    incident = targets["incident"]
    incident.refresh_from_db()
    assert (incident.name, incident.updates.count(), Component.objects.count()) == ("Slow", 1, 1)


def test_a_nul_character_in_a_form_encoded_body_or_a_query_is_a_422(admin_api, targets):
    response = admin_api.send_form("post", "incidents", [("incident[name]", "a\x00b"), ("incident[body]", "ok")])
    assert_error(response, 422)
    assert_error(admin_api.get("incidents", q="\x00"), 422)


def test_other_control_characters_in_a_message_are_refused_with_a_clear_message(admin_api, targets):
    response = admin_api.post("incidents", {"incident": {"name": "ok", "body": "bell\x07"}})
    assert "control characters" in assert_error(response, 422)
    ok = admin_api.post("incidents", {"incident": {"name": "ok", "body": "tab\tand\r\nlines"}})
    assert ok.status_code == 201, ok.content


def test_the_nul_checks_hold_on_postgresql(postgres, admin_api, targets):
    test_a_nul_character_in_any_string_field_is_a_422(admin_api, targets)


def test_the_admin_declare_form_refuses_a_nul_with_a_form_error(client, responder, page):
    client.force_login(responder)
    response = client.post(
        "/admin/incidents/incident/add/", {"name": "Slow\x00", "status": "investigating", "body": "We look\x00."}
    )
    assert response.status_code == 200
    assert "Null characters are not allowed." in response.content.decode()
    assert not Incident.objects.exists()
