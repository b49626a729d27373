"""One permission system: a key may do through the manage API exactly what its user may do in the admin.

For each manage endpoint and method, and for a responder, a page admin, a user who may only look, and a user
without a role, the API's answer (refused with 403 or not) agrees with the admin's own permission checks.
"""

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.test import RequestFactory

from accounts.models import ApiKey
from accounts.services import member_set
from incidents import page_services, services
from incidents.models import Component, ComponentGroup, Incident, IncidentTemplate
from notifications import services as notifications
from notifications.models import Subscriber
from tests.api_support import Api


def build_world(page) -> dict:
    """One object of each kind on the page (also used by tests/test_tenants.py, for two pages)."""
    group = services.component_group_create(page=page, name="Delivery")
    component = services.component_create(page=page, name="API", group=group)
    incident = services.incident_create(page=page, name="Slow", body="Looking.", affected=[component])
    template = page_services.incident_template_create(page=page, name="T", title="t", body="b")
    subscriber = notifications.subscribe(page=page, email="s@example.com", components=[], groups=[], confirmed=True)
    return {
        "group": group, "component": component, "incident": incident, "update": incident.updates.get(),
        "template": template, "subscriber": subscriber,
    }  # fmt: skip


@pytest.fixture
def world(page):
    return build_world(page)


def model_admin(model):
    return admin.site._registry[model]


def admin_may(user, model, action, obj=None) -> bool:
    request = RequestFactory().get("/admin/")
    request.user = user
    checks = model_admin(model)
    if action == "add":
        return checks.has_add_permission(request)
    return getattr(checks, f"has_{action}_permission")(request, obj)


def admin_may_edit_field(user, model, obj, field) -> bool:
    request = RequestFactory().get("/admin/")
    request.user = user
    checks = model_admin(model)
    return checks.has_change_permission(request, obj) and field not in checks.get_readonly_fields(request, obj)


def matrix(w):
    """(what, method, path, body, the admin's answer for a user)."""
    i, u, c, g = w["incident"], w["update"], w["component"], w["group"]
    s = w["subscriber"]
    incident_body = {"incident": {"body": "More", "status": "identified"}}
    return [
        ("list incidents", "get", "incidents", None, lambda user: admin_may(user, Incident, "view")),
        ("list unresolved", "get", "incidents/unresolved", None, lambda user: admin_may(user, Incident, "view")),
        ("metrics", "get", "metrics", None, lambda user: admin_may(user, Incident, "view")),
        ("declare", "post", "incidents", {"incident": {"name": "New", "body": "Hi"}},
         lambda user: admin_may(user, Incident, "add")),
        ("read an incident", "get", f"incidents/{i.code}", None, lambda user: admin_may(user, Incident, "view", i)),
        ("post an update", "patch", f"incidents/{i.code}", incident_body,
         lambda user: admin_may(user, Incident, "change", i)),
        ("post an update (PUT)", "put", f"incidents/{i.code}", incident_body,
         lambda user: admin_may(user, Incident, "change", i)),
        ("edit an update", "patch", f"incidents/{i.code}/incident_updates/{u.code}",
         {"incident_update": {"body": "Edited"}},
         lambda user: user.has_perm("incidents.change_incidentupdate")),  # the admin's edit_update_view check
        ("list components", "get", "components", None, lambda user: admin_may(user, Component, "view")),
        ("read a component", "get", f"components/{c.code}", None, lambda user: admin_may(user, Component, "view", c)),
        ("create a component", "post", "components", {"component": {"name": "CDN"}},
         lambda user: admin_may(user, Component, "add")),
        ("set a component's status", "patch", f"components/{c.code}", {"component": {"status": "major_outage"}},
         lambda user: admin_may_edit_field(user, Component, c, "status")),
        ("rename a component", "patch", f"components/{c.code}", {"component": {"name": "Renamed"}},
         lambda user: admin_may_edit_field(user, Component, c, "name")),
        ("list groups", "get", "component-groups", None, lambda user: admin_may(user, ComponentGroup, "view")),
        ("read a group", "get", f"component-groups/{g.code}", None,
         lambda user: admin_may(user, ComponentGroup, "view", g)),
        ("create a group", "post", "component-groups", {"component_group": {"name": "Edge"}},
         lambda user: admin_may(user, ComponentGroup, "add")),
        ("rename a group", "patch", f"component-groups/{g.code}", {"component_group": {"name": "Edge 2"}},
         lambda user: admin_may(user, ComponentGroup, "change", g)),
        ("list templates", "get", "incident_templates", None, lambda user: admin_may(user, IncidentTemplate, "view")),
        ("create a template", "post", "incident_templates",
         {"incident_template": {"name": "t2", "title": "T", "body": "B"}},
         lambda user: admin_may(user, IncidentTemplate, "add")),
        ("list subscribers", "get", "subscribers", None, lambda user: admin_may(user, Subscriber, "view")),
        ("read a subscriber", "get", f"subscribers/{s.code}", None,
         lambda user: admin_may(user, Subscriber, "view", s)),
        ("add a subscriber", "post", "subscribers",
         {"subscriber": {"email": "new@example.com", "skip_confirmation_notification": True}},
         lambda user: admin_may(user, Subscriber, "add")),
        # Deletions last: what they remove is gone for the calls after them.
        ("delete a subscriber", "delete", f"subscribers/{s.code}", None,
         lambda user: admin_may(user, Subscriber, "delete", s)),
        ("delete a component", "delete", f"components/{c.code}", None,
         lambda user: admin_may(user, Component, "delete", c)),
        ("delete a group", "delete", f"component-groups/{g.code}", None,
         lambda user: admin_may(user, ComponentGroup, "delete", g)),
        ("delete an incident", "delete", f"incidents/{i.code}", None,
         lambda user: admin_may(user, Incident, "delete", i)),
    ]  # fmt: skip


RESPONDER_MAY = {
    "list incidents", "list unresolved", "metrics", "declare", "read an incident", "post an update",
    "post an update (PUT)", "edit an update", "list components", "read a component", "set a component's status",
    "list groups", "read a group", "list templates",
}  # fmt: skip


@pytest.mark.parametrize("role", ["responder", "page_admin", "nobody"])
def test_the_api_and_the_admin_agree_on_every_manage_endpoint_and_method(request, client, page, world, make_user, role):
    user = make_user("nemo") if role == "nobody" else request.getfixturevalue(role)
    api = Api(client, page, ApiKey.issue(user, pages=[page])[1])  # nobody: a key of a user who lost their role
    allowed = set()
    for what, method, path, body, admin_answer in matrix(world):
        expected = admin_answer(user)  # asked before the call: a deletion removes the object
        response = api.get(path) if method == "get" else api.send(method, path, body)
        if role == "nobody":
            assert response.status_code == 404, (what, response.content)  # not a member: the page is not there
            assert not expected
            continue
        if response.status_code == 403:
            assert "error" in response.json()
        else:
            assert response.status_code < 300, (what, response.content)
            allowed.add(what)
        assert (response.status_code != 403) == expected, (role, what, response.status_code, expected)
    everything = {row[0] for row in matrix(world)}
    wanted = {
        "page_admin": everything,
        "responder": RESPONDER_MAY,
        "nobody": set(),
    }[role]
    assert allowed == wanted


def test_a_responders_key_cannot_delete_an_incident_and_a_page_admins_can(client, page, responder, page_admin):
    incident = services.incident_create(page=page, name="Slow", body="Looking.")
    as_responder = Api(client, page, ApiKey.issue(responder)[1])
    response = as_responder.delete(f"incidents/{incident.code}")
    assert response.status_code == 403
    assert response.json() == {
        "error": "This API key's user lacks the permission incidents.delete_incident on this page."
    }
    assert Incident.objects.filter(pk=incident.pk).exists()
    assert Api(client, page, ApiKey.issue(page_admin)[1]).delete(f"incidents/{incident.code}").status_code == 200
    assert not Incident.objects.filter(pk=incident.pk).exists()


def test_a_permission_given_to_one_user_counts_through_the_api(client, page, responder):
    """Permissions, not group names: a responder given delete_incident directly may delete through the API."""
    incident = services.incident_create(page=page, name="Slow", body="Looking.")
    responder.user_permissions.add(Permission.objects.get(codename="delete_incident"))
    assert Api(client, page, ApiKey.issue(responder)[1]).delete(f"incidents/{incident.code}").status_code == 200


def test_api_keys_in_the_admin_follow_the_model_permissions(client, page, responder, page_admin):
    client.force_login(responder)
    assert client.get("/admin/accounts/apikey/").status_code == 403
    client.force_login(page_admin)
    assert client.get("/admin/accounts/apikey/").status_code == 200


def user_with_permissions(make_user, name, *dotted):
    user = make_user(name)
    for perm in dotted:
        app_label, codename = perm.split(".")
        user.user_permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))
    return user


@pytest.mark.parametrize(
    ("extra", "may_edit_details"),
    [("incidents.change_component_details", True), ("incidents.add_component", False)],
)
def test_a_components_details_need_the_same_permission_in_the_admin_and_the_api(
    client, page, world, make_user, extra, may_edit_details
):
    """Renaming a component (beyond its status) asks one permission, change_component_details, everywhere: a user
    given it on top of the responder's role may rename in both; one who may create components but lacks it, in neither."""
    component = world["component"]
    user = user_with_permissions(make_user, "cleo", "incidents.view_component", "incidents.change_component", extra)
    member_set(user=user, page=page, role="responder")  # the permissions count on the user's pages
    api = Api(client, page, ApiKey.issue(user)[1])
    assert admin_may_edit_field(user, Component, component, "status")
    assert api.patch(f"components/{component.code}", {"component": {"status": "major_outage"}}).status_code == 200
    assert admin_may_edit_field(user, Component, component, "name") is may_edit_details
    response = api.patch(f"components/{component.code}", {"component": {"name": "Renamed"}})
    assert response.status_code == (200 if may_edit_details else 403)
    component.refresh_from_db()
    assert (component.name == "Renamed") is may_edit_details
