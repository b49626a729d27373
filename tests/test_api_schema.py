"""The OpenAPI schema describes the API truthfully: schemathesis finds no 500 and no response off the schema."""

import contextlib
from collections import Counter

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from incidents import page_services, services
from incidents.choices import ComponentStatus as S
from notifications.services import subscribe

EXAMPLES_PER_OPERATION = 12
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


def test_the_schema_is_served_as_openapi_3_with_every_endpoint(client, db):
    response = client.get("/api/schema", {"format": "json"})
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    paths = set(schema["paths"])
    assert "/api/v2/summary.json" in paths
    assert "/p/{page_code}/api/v2/incidents/{code}.json" in paths
    assert "/api/v1/pages/{page_code}/incidents/{incident_code}/incident_updates/{update_code}" in paths
    assert "ApiKey" in schema["components"]["securitySchemes"]


def test_the_docs_use_our_own_static_files(client, db):
    html = client.get("/api/docs").content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in html
    assert "cdn" not in html.lower()


@pytest.fixture
def filled_page(page, make_component, admin_key):
    """A page with a group, components, an incident with two updates and a template."""
    group = services.component_group_create(page=page, name="Delivery")
    push = make_component("Push", group=group)
    api = make_component("API")
    incident = services.incident_create(page=page, name="Slow", body="Looking.", components={push: S.MAJOR_OUTAGE})
    services.incident_post_update(
        incident=incident, body="Found it.", status="identified", components={api: S.DEGRADED_PERFORMANCE}
    )
    template = page_services.incident_template_create(
        page=page, name="Failover", title="DB failover", body="We fail over.", components=[api]
    )
    with transaction.atomic():
        subscriber = subscribe(page=page, email="ops@customer.example", components=[api], confirmed=True)
    return {
        "page_code": page.code,
        "code": incident.code,
        "incident_code": incident.code,
        "update_code": incident.updates.first().code,
        "component_code": push.code,
        "group_code": group.code,
        "subscriber_code": subscriber.code,
        "template_code": template.code,
    }


@pytest.mark.fuzz
def test_schemathesis_finds_no_server_error_and_no_response_off_the_schema(filled_page, admin_key, settings_):
    schema = schemathesis.openapi.from_wsgi("/api/schema?format=json", get_wsgi_application())
    operations = [result.ok() for result in schema.get_all_operations()]
    # Deletions last, so that the other operations meet the objects they point at.
    operations.sort(key=lambda op: op.method.upper() == "DELETE")
    assert len(operations) >= 25
    # The WSGI transport does not decompress, so ask for plain bodies (the public views gzip on request).
    headers = {"Authorization": f"OAuth {admin_key}", "Accept-Encoding": "identity"}
    seen = Counter()
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
        def run(case):
            for name in case.path_parameters or {}:
                case.path_parameters[name] = filled_page[name]
            response = case.call(headers=headers)
            seen[(case.operation.label, response.status_code // 100)] += 1
            case.validate_response(response, checks=CHECKS)

        run()
    # The examples reached the objects: every read succeeded, and so did nearly every write (random ids in a
    # body, such as a group's members, are rightly refused with 422).
    succeeded = {label for label, kind in seen if kind == 2}
    labels = {op.label for op in operations}
    assert {label for label in labels if label.startswith("GET ")} <= succeeded
    # The filled incident is open: its postmortem can be drafted but rightly not published, reverted (nor, once
    # the incident is deleted, emptied).
    failed = {label for label in labels - succeeded if "/postmortem/" not in label and not label.endswith("postmortem")}
    assert len(failed) <= 4, sorted(failed)


@pytest.mark.fuzz
def test_schemathesis_invalid_bodies_and_parameters_never_give_a_server_error(filled_page, admin_key, settings_):
    schema = schemathesis.openapi.from_wsgi("/api/schema?format=json", get_wsgi_application())
    operations = [result.ok() for result in schema.get_all_operations()]
    operations = [op for op in operations if op.method.upper() in ("GET", "POST", "PATCH", "PUT")]
    # The WSGI transport does not decompress, so ask for plain bodies (the public views gzip on request).
    headers = {"Authorization": f"OAuth {admin_key}", "Accept-Encoding": "identity"}
    seen = Counter()
    for operation in operations:

        @given(case=operation.as_strategy(GenerationMode.NEGATIVE))
        @settings(
            max_examples=EXAMPLES_PER_OPERATION // 3,
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
        def run(case):
            for name in case.path_parameters or {}:
                case.path_parameters[name] = filled_page[name]
            response = case.call(headers=headers)
            seen[response.status_code // 100] += 1
            case.validate_response(response, checks=[not_a_server_error, content_type_conformance])

        # Some operations have nothing that can be made invalid (e.g. a public GET without parameters).
        with contextlib.suppress(Unsatisfiable):
            run()
    assert seen[4] > len(operations), seen


CONTROL_CHARACTERS = ["\x00", "\x01", "\x07", "\x1b", "\x7f", "\n"]


def with_control_character(value, char: str):
    """Every string (and object key) of a generated value, with a control character in its middle."""
    if isinstance(value, str):
        return value[: len(value) // 2] + char + value[len(value) // 2 :]
    if isinstance(value, dict):
        return {with_control_character(k, char): with_control_character(v, char) for k, v in value.items()}
    if isinstance(value, list):
        return [with_control_character(v, char) for v in value]
    return value


@pytest.mark.fuzz
def test_schemathesis_control_characters_in_bodies_and_queries_never_give_a_server_error(
    filled_page, admin_key, settings_
):
    schema = schemathesis.openapi.from_wsgi("/api/schema?format=json", get_wsgi_application())
    operations = [result.ok() for result in schema.get_all_operations()]
    operations = [op for op in operations if op.method.upper() in ("GET", "POST", "PATCH", "PUT")]
    headers = {"Authorization": f"OAuth {admin_key}", "Accept-Encoding": "identity"}
    seen = Counter()
    for operation in operations:

        @given(case=operation.as_strategy(), char=st.sampled_from(CONTROL_CHARACTERS))
        @settings(
            max_examples=EXAMPLES_PER_OPERATION // 3,
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
        def run(case, char):
            for name in case.path_parameters or {}:
                case.path_parameters[name] = filled_page[name]
            if case.query:
                case.query = with_control_character(case.query, char)
            if isinstance(case.body, dict):
                case.body = with_control_character(case.body, char)
            response = case.call(headers=headers)
            seen[response.status_code // 100] += 1
            case.validate_response(response, checks=[not_a_server_error, content_type_conformance])

        with contextlib.suppress(Unsatisfiable):
            run()
    assert seen[4] > len(operations) // 2, seen


@pytest.mark.fuzz
def test_every_operation_with_a_body_answers_400_to_a_body_nested_1000_levels_deep(
    client, filled_page, admin_key, settings_
):
    schema = client.get("/api/schema", {"format": "json"}).json()
    headers = {"Authorization": f"OAuth {admin_key}"}
    sent = 0
    for path, methods in schema["paths"].items():
        url = path.format(**filled_page)
        for method, operation in methods.items():
            content = operation.get("requestBody", {}).get("content", {})
            if "application/json" not in content:
                continue
            wrapper = next(iter(content["application/json"]["schema"].get("properties", {"x": 0})), "x")
            for text in ("[" * 1000 + "]" * 1000, f'{{"{wrapper}": ' + '{"a": ' * 1000 + "1" + "}" * 1001):
                response = getattr(client, method)(url, text, content_type="application/json", headers=headers)
                assert response.status_code == 400, (method, path, response.content[:200])
                assert "nested" in response.json()["error"]
                sent += 1
    assert sent >= 10


@pytest.fixture
def settings_(settings):
    settings.API_RATE_LIMIT = "100000/minute"
    settings.ALLOWED_HOSTS = ["*"]
    # Requests go straight to the WSGI app. Like Django's test client, keep the test's connection (and its
    # transaction) open across them instead of closing it at the end of each request.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield settings
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)
