"""Incident templates accept only components of their page, and carry the status they set per component."""

import pytest
from bs4 import BeautifulSoup
from django.core.exceptions import ValidationError

from incidents import page_services, services
from incidents.models import IncidentTemplate, IncidentTemplateComponent
from tests.api_support import grant_role


@pytest.fixture
def parts(page, other_page):
    return {
        "push": services.component_create(page=page, name="Push"),
        "email": services.component_create(page=page, name="Email"),
        "sms": services.component_create(page=page, name="SMS"),
        "foreign": services.component_create(page=other_page, name="Elsewhere"),
    }


def test_the_service_refuses_a_component_of_another_page(page, parts):
    with pytest.raises(ValidationError, match="does not belong"):
        page_services.incident_template_create(page=page, name="T", title="T", body="B", components=[parts["foreign"]])
    with pytest.raises(ValidationError, match="component status"):
        page_services.incident_template_create(
            page=page, name="T", title="T", body="B", components={parts["push"]: "x"}
        )
    assert not IncidentTemplate.objects.exists()


def test_the_api_creates_a_template_with_a_status_per_component(admin_api, parts):
    response = admin_api.post(
        "incident_templates",
        {"incident_template": {"name": "Push delays", "title": "Push delayed", "body": "Queued.",
                               "components": {parts["push"].code: "major_outage"},
                               "component_ids": [parts["email"].code]}},
    )  # fmt: skip
    assert response.status_code == 201, response.content
    body = response.json()
    assert [c["id"] for c in body["components"]] == [parts["push"].code, parts["email"].code]
    assert body["component_statuses"] == {parts["push"].code: "major_outage"}
    listed = admin_api.get("incident_templates").json()[0]
    assert listed["component_statuses"] == {parts["push"].code: "major_outage"}
    assert IncidentTemplate.objects.get().component_statuses() == {parts["push"]: "major_outage", parts["email"]: ""}


def test_the_api_refuses_a_component_of_another_page(admin_api, parts):
    for fields in ({"component_ids": [parts["foreign"].code]}, {"components": {parts["foreign"].code: "major_outage"}}):
        response = admin_api.post(
            "incident_templates", {"incident_template": {"name": "T", "title": "T", "body": "B", **fields}}
        )
        assert response.status_code == 422, response.content
        assert parts["foreign"].code in response.json()["error"]
    assert not IncidentTemplate.objects.exists()


def test_starting_from_a_template_applies_its_statuses_in_the_declare_form(client, responder, page, parts):
    template = page_services.incident_template_create(
        page=page, name="Push delays", title="Push delayed", body="Queued.",
        components={parts["push"]: "major_outage", parts["email"]: "degraded_performance", parts["sms"]: ""},
    )  # fmt: skip
    client.force_login(responder)
    html = BeautifulSoup(
        client.get(f"/admin/incidents/incident/add/?page={page.code}&template={template.code}").content, "html.parser"
    )

    def chosen(name):
        return html.select_one(f"#id_component_{parts[name].code} option[selected]")["value"]

    assert (chosen("push"), chosen("email"), chosen("sms")) == (
        "major_outage",
        "degraded_performance",
        "partial_outage",
    )


def admin_form(page, *rows, **fields):
    data = {
        "page": page.pk, "name": "Push delays", "title": "Push delayed", "body": "Queued.",
        "update_status": "investigating", "should_send_notifications": "on",
        "component_links-TOTAL_FORMS": str(len(rows)), "component_links-INITIAL_FORMS": "0",
        "component_links-MIN_NUM_FORMS": "0", "component_links-MAX_NUM_FORMS": "1000", **fields,
    }  # fmt: skip
    for n, (component, status) in enumerate(rows):
        data[f"component_links-{n}-component"] = component.pk
        data[f"component_links-{n}-status"] = status
    return data


def test_the_admin_saves_a_template_with_its_component_statuses(client, page_admin, page, parts):
    client.force_login(page_admin)
    response = client.post(
        "/admin/incidents/incidenttemplate/add/",
        admin_form(page, (parts["push"], "partial_outage"), (parts["email"], "")),
    )
    assert response.status_code == 302, response.content.decode()[-3000:]
    template = IncidentTemplate.objects.get()
    assert template.component_statuses() == {parts["push"]: "partial_outage", parts["email"]: ""}
    change = client.get(f"/admin/incidents/incidenttemplate/{template.pk}/change/").content.decode()
    assert "Elsewhere" not in change  # only the page's components are offered


def test_the_admin_refuses_a_component_of_another_page(client, page_admin, page, other_page, parts):
    grant_role(page_admin, "Page admins", [other_page])  # even a page admin of both pages
    client.force_login(page_admin)
    response = client.post(
        "/admin/incidents/incidenttemplate/add/", admin_form(page, (parts["foreign"], "major_outage"))
    )
    assert response.status_code == 200
    assert "is not a component of the page Acme Cloud" in response.content.decode()
    assert not IncidentTemplate.objects.exists()
    assert not IncidentTemplateComponent.objects.exists()


def test_the_admin_template_form_bounds_the_message(client, page_admin, page):
    client.force_login(page_admin)
    response = client.post("/admin/incidents/incidenttemplate/add/", admin_form(page, body="b" * 20_001))
    assert response.status_code == 200
    assert "at most 20,000 characters" in response.content.decode()
    assert not IncidentTemplate.objects.exists()


def test_a_template_on_the_post_update_form_presets_only_the_statuses_it_sets(client, responder, page, parts):
    template = page_services.incident_template_create(
        page=page, name="Recovering", title="t", body="Recovering.", update_status="monitoring",
        components={parts["push"]: "degraded_performance", parts["email"]: ""},
    )  # fmt: skip
    incident = services.incident_create(page=page, name="Slow", body="Looking.")
    client.force_login(responder)
    url = f"/admin/incidents/incident/{incident.pk}/change/?template={template.code}"
    html = BeautifulSoup(client.get(url).content, "html.parser")
    push = html.select_one(f"select[name=component_{parts['push'].code}] option[selected]")
    email = html.select_one(f"select[name=component_{parts['email'].code}] option[selected]")
    assert push["value"] == "degraded_performance"
    assert email is None or email["value"] == ""
