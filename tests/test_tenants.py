"""Pages as tenants: who may do what on which page, through every manage API endpoint and every admin screen.

Two pages, A and B, each with one object of every kind. The actors: a superuser, the page admin of A, a responder
of A, a responder of B, a read-only key of A, a key of A used on B, a revoked key and nobody (no key, no login).
"""

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group, User
from django.urls import reverse

from accounts.models import ApiKey, AuditEntry, Membership
from accounts.roles import RESPONDER_PERMISSIONS
from accounts.services import member_set
from incidents import access_services, services
from incidents.models import AudienceGroup, Component, ComponentStatusChange, Incident, Page, Viewer
from notifications.models import Delivery, Notification, Subscriber, SubscriberImport
from tests.api_support import Api
from tests.test_api_permissions import RESPONDER_MAY, build_world, matrix

API_ACTORS = ["superuser", "admin_a", "responder_a", "responder_b", "read_only_a", "key_a_on_b", "revoked", "nobody"]


@pytest.fixture
def tenants(page, other_page):
    """Page A (`page`) and page B, their objects, their people and their keys."""
    users = {
        "superuser": User.objects.create_superuser("root", "root@example.com", "x"),
        "admin_a": User.objects.create_user("adam"),
        "responder_a": User.objects.create_user("rita"),
        "responder_b": User.objects.create_user("bob"),
    }
    member_set(user=users["admin_a"], page=page, role="page_admin")
    member_set(user=users["responder_a"], page=page, role="responder")
    member_set(user=users["responder_b"], page=other_page, role="responder")
    keys = {name: ApiKey.issue(user)[1] for name, user in users.items()}
    keys["read_only_a"] = ApiKey.issue(users["admin_a"], read_only=True)[1]
    keys["key_a_on_b"] = keys["admin_a"]
    revoked, keys["revoked"] = ApiKey.issue(users["admin_a"])
    revoked.revoke()
    keys["nobody"] = None
    return {"a": page, "b": other_page, "world_a": build_world(page), "world_b": build_world(other_page),
            "users": users, "keys": keys}  # fmt: skip


class AnyPathApi(Api):
    """Api, and a path that starts with / is the whole address (the page itself)."""

    def url(self, path: str) -> str:
        return path if path.startswith("/") else super().url(path)


def more_calls(page, w) -> list[tuple]:
    """The manage endpoints beyond test_api_permissions.matrix: (what, method, path, body, a responder may)."""
    i, c, t, s = w["incident"].code, w["component"].code, w["template"].code, w["subscriber"].code
    here = f"/api/v1/pages/{page.code}"
    return [
        ("page profile", "get", here, None, True),
        ("change the page", "patch", here, {"page": {"name": "Renamed"}}, False),
        ("read the postmortem", "get", f"incidents/{i}/postmortem", None, True),
        ("draft the postmortem", "put", f"incidents/{i}/postmortem", {"postmortem": {"body_draft": "x"}}, True),
        ("a component's uptime", "get", f"components/{c}/uptime", None, True),
        ("read a template", "get", f"incident_templates/{t}", None, True),
        ("change a template", "patch", f"incident_templates/{t}", {"incident_template": {"title": "T2"}}, False),
        ("count subscribers", "get", "subscribers/count", None, False),
        ("subscriber histogram", "get", "subscribers/histogram_by_state", None, False),
        ("unsubscribed", "get", "subscribers/unsubscribed", None, False),
        ("reactivate", "post", "subscribers/reactivate", {"subscribers": s}, False),
        ("rescope a subscriber", "patch", f"subscribers/{s}", {"subscriber": {"component_ids": [c]}}, False),
        ("delete a template", "delete", f"incident_templates/{t}", None, False),
    ]


def all_calls(page, world) -> list[tuple]:
    """Every manage endpoint and method, deletions last; (what, method, path, body, a responder may)."""
    return [*more_calls(page, world)] + [
        (what, method, path, body, what in RESPONDER_MAY) for what, method, path, body, _ in matrix(world)
    ]


def expected_api_answer(actor: str, method: str, responder_may: bool) -> int:
    return {
        "superuser": 200,
        "admin_a": 200,
        "responder_a": 200 if responder_may else 403,
        "responder_b": 404,  # page A is not theirs: it is not there
        "read_only_a": 200 if method == "get" else 403,  # a page admin's key, read-only
        "key_a_on_b": 404,
        "revoked": 401,
        "nobody": 401,
    }[actor]


def page_b_state(b):
    return (
        sorted(Incident.objects.filter(page=b).values_list("code", "name", "status")),
        sorted(Component.objects.filter(page=b).values_list("code", "name", "status")),
        Subscriber.objects.filter(page=b).count(),
        b.incidents.get().updates.count(),
    )


@pytest.mark.parametrize("actor", API_ACTORS)
def test_every_manage_endpoint_answers_each_actor_as_its_role_on_the_page_says(client, tenants, actor):
    on_b = actor == "key_a_on_b"
    page, world = (tenants["b"], tenants["world_b"]) if on_b else (tenants["a"], tenants["world_a"])
    before = page_b_state(tenants["b"])
    api = AnyPathApi(client, page, tenants["keys"][actor])
    answers, calls = {}, all_calls(page, world)
    for what, method, path, body, _ in calls:
        response = api.get(path) if method == "get" else api.send(method, path, body)
        answers[what] = 200 if response.status_code in (200, 201, 202, 204) else response.status_code
        if response.status_code >= 400:
            assert "error" in response.json(), (what, response.content)
    assert answers == {what: expected_api_answer(actor, method, may) for what, method, _, _, may in calls}
    if actor != "superuser":
        assert page_b_state(tenants["b"]) == before  # nothing of page B changed


def test_the_page_list_holds_the_pages_the_key_reaches(client, tenants):
    def listed(key):
        response = client.get("/api/v1/pages", headers={"Authorization": f"OAuth {tenants['keys'][key]}"})
        return sorted(page["id"] for page in response.json())

    assert listed("superuser") == sorted([tenants["a"].code, tenants["b"].code])
    assert listed("admin_a") == listed("read_only_a") == [tenants["a"].code]
    assert listed("responder_b") == [tenants["b"].code]


def test_a_key_of_page_a_can_do_nothing_to_page_b_even_with_b_s_codes_on_a_s_address(client, tenants):
    """Another page's objects under the key's own page, and the other page itself: 404, as unknown ids."""
    api = Api(client, tenants["a"], tenants["keys"]["admin_a"])
    before = page_b_state(tenants["b"])
    b_codes = {tenants["b"].code} | {getattr(o, "code", "") for o in tenants["world_b"].values()}
    for what, method, path, body, _ in all_calls(tenants["b"], tenants["world_b"]):
        if not any(code in path for code in b_codes):
            continue  # the page's own lists and counts: those are page A's
        response = api.get(path) if method == "get" else api.send(method, path, body)
        assert response.status_code == 404, (what, response.status_code)
    assert page_b_state(tenants["b"]) == before


# -- the admin ----------------------------------------------------------------------------------------------------

ADMIN_ACTORS = ["superuser", "admin_a", "responder_a", "responder_b", "nobody"]


def objects_of_page_a(tenants) -> dict:
    """One object on page A for every model with an admin screen (the people and keys are A's)."""
    a, world = tenants["a"], tenants["world_a"]
    notification = Notification.objects.get(update=world["update"])  # the declaration notified
    objects = {
        Page: a, Component: world["component"], Incident: world["incident"], Subscriber: world["subscriber"],
        type(world["group"]): world["group"], type(world["template"]): world["template"],
        ComponentStatusChange: services.component_set_status(component=world["component"], status="major_outage")
        or ComponentStatusChange.objects.filter(component__page=a).last(),
        Notification: notification,
        Delivery: Delivery.objects.create(notification=notification, subscriber=world["subscriber"]),
        SubscriberImport: SubscriberImport.objects.create(page=a, addresses=["x@example.com"]),
        ApiKey: ApiKey.objects.filter(user=tenants["users"]["admin_a"]).first(),
        User: tenants["users"]["responder_a"],
        Membership: Membership.objects.get(user=tenants["users"]["responder_a"]),
        AuditEntry: AuditEntry.objects.filter(page=a).first(),
        AudienceGroup: access_services.audience_group_create(page=a, name="Customers", components=[world["component"]]),
        Viewer: access_services.viewer_add(page=a, email="val@example.com"),
        Group: Group.objects.first(),
    }  # fmt: skip
    missing = set(admin.site._registry) - set(objects)
    assert not missing, f"add an object of {missing} to the admin matrix"
    return objects


def responder_may(model, action: str) -> bool:
    label = model._meta.app_label
    return f"{label}.{action}_{model._meta.model_name}" in RESPONDER_PERMISSIONS or (
        action == "view" and f"{label}.change_{model._meta.model_name}" in RESPONDER_PERMISSIONS
    )


def expected_admin_answers(actor, model, model_admin, superuser_request) -> dict:
    may_add = model_admin.has_add_permission(superuser_request)
    everything = {"changelist": 200, "add": 200 if may_add else 403, "change": 200}
    if actor == "nobody":
        return dict.fromkeys(everything, 302)  # to the login
    if actor == "superuser":
        return everything
    if model is Group:  # the role groups: superusers only
        return {"changelist": 403, "add": 403, "change": 403}
    if actor == "admin_a":
        return everything
    viewable = responder_may(model, "view")
    listing = 200 if viewable else 403
    add = 200 if may_add and responder_may(model, "add") else 403
    # A responder of B: page A's object is not in their lists (404), where their role lets them look at all.
    change = (404 if actor == "responder_b" else 200) if viewable else 403
    return {"changelist": listing, "add": add, "change": change}


@pytest.mark.parametrize("actor", ADMIN_ACTORS)
def test_every_admin_screen_shows_each_actor_only_what_their_role_on_the_page_allows(client, tenants, actor, rf):
    objects = objects_of_page_a(tenants)
    users = {**tenants["users"], "nobody": None}
    for name in ("admin_a", "responder_a", "responder_b"):
        User.objects.filter(pk=users[name].pk).update(is_staff=True)
    if users[actor] is not None:
        client.force_login(User.objects.get(pk=users[actor].pk))
    superuser_request = rf.get("/admin/")
    superuser_request.user = users["superuser"]
    got, wanted = {}, {}
    for model, model_admin in admin.site._registry.items():
        opts = model._meta
        name = f"admin:{opts.app_label}_{opts.model_name}"
        obj = objects[model]
        urls = {
            "changelist": reverse(f"{name}_changelist"),
            "add": reverse(f"{name}_add"),
            "change": reverse(f"{name}_change", args=[obj.pk]),
        }
        answers = {view: client.get(url).status_code for view, url in urls.items()}
        expected = expected_admin_answers(actor, model, model_admin, superuser_request)
        got[opts.label], wanted[opts.label] = answers, expected
    assert got == wanted


def test_the_admin_lists_and_choosers_hold_only_the_users_pages(client, tenants):
    """Responder of B: page A's incidents, components and pages are in no list, chooser or filter."""
    bob = tenants["users"]["responder_b"]
    User.objects.filter(pk=bob.pk).update(is_staff=True)
    client.force_login(bob)
    a_name, b_incident = tenants["a"].name, tenants["world_b"]["incident"]
    for url in ("/admin/incidents/incident/", "/admin/incidents/component/", "/admin/incidents/page/"):
        html = client.get(url).content.decode()
        assert a_name not in html, url
    html = client.get("/admin/incidents/incident/").content.decode()
    assert b_incident.name in html
    declare = client.get("/admin/incidents/incident/add/")  # one page of theirs: no chooser, straight to B
    assert declare.context["page"] == tenants["b"]
    response = client.get(f"/admin/incidents/incident/add/?page={tenants['a'].code}")
    assert response.context["page"] == tenants["b"]  # another page's code is not taken


def test_a_list_holds_only_the_pages_where_the_role_shows_that_model(client, tenants):
    """A page admin by group who is a responder on A sees A's incidents, not A's subscribers (a page admin's)."""
    rita = tenants["users"]["responder_a"]
    rita.groups.add(Group.objects.get(name="Page admins"))
    User.objects.filter(pk=rita.pk).update(is_staff=True)
    client.force_login(rita)
    assert client.get("/admin/incidents/incident/").context["cl"].result_count == 1
    response = client.get("/admin/notifications/subscriber/")
    assert response.status_code == 200  # the group's menus
    assert response.context["cl"].result_count == 0


def test_the_incident_admin_s_own_views_answer_404_for_another_page(client, tenants):
    bob = tenants["users"]["responder_b"]
    User.objects.filter(pk=bob.pk).update(is_staff=True)
    client.force_login(bob)
    incident, update = tenants["world_a"]["incident"], tenants["world_a"]["update"]
    for url in (
        f"/admin/incidents/incident/update/{update.pk}/edit/",
        f"/admin/incidents/incident/update/{update.pk}/delete/",
    ):
        assert client.get(url).status_code == 404, url
    for url in (
        f"/admin/incidents/incident/{incident.pk}/details/",
        f"/admin/incidents/incident/{incident.pk}/postmortem/",
    ):
        assert client.post(url, {"name": "Mine now", "postmortem": "x"}).status_code == 404, url
    incident.refresh_from_db()
    assert (incident.name, incident.postmortem) == ("Slow", "")


def test_the_membership_chooser_names_no_member_of_another_page(client, tenants):
    """Page admin of A adding a member: users of A and users on no page yet, never B's responder."""
    newcomer = User.objects.create_user("newcomer", password="x")
    client.force_login(tenants["users"]["admin_a"])
    form = client.get("/admin/accounts/membership/add/").context["adminform"].form
    usernames = {user.username for user in form.fields["user"].queryset}
    assert newcomer.username in usernames
    assert tenants["users"]["responder_a"].username in usernames
    assert tenants["users"]["responder_b"].username not in usernames


def test_the_subscriber_form_names_no_incident_of_another_page(client, tenants):
    """The incident chooser of a subscriber: no raw-id widget that would label any id typed into the address."""
    b_incident = tenants["world_b"]["incident"]
    type(b_incident).objects.filter(pk=b_incident.pk).update(name="Only-on-page-B outage")
    b_incident.refresh_from_db()
    client.force_login(tenants["users"]["admin_a"])
    response = client.get(f"/admin/notifications/subscriber/add/?incident={b_incident.pk}")
    assert response.status_code == 200
    assert b_incident.name not in response.content.decode()
    form = response.context["adminform"].form
    assert not form.fields["incident"].queryset.filter(pk=b_incident.pk).exists()


def test_a_page_admin_sees_no_key_that_also_reaches_another_page(client, tenants):
    from accounts.services import api_key_issue

    both = User.objects.create_user("both", password="x")
    member_set(user=both, page=tenants["a"], role="responder")
    member_set(user=both, page=tenants["b"], role="responder")
    only_a, _ = api_key_issue(user=both, name="only-a", pages=[tenants["a"]])
    a_and_b, _ = api_key_issue(user=both, name="reaches-b-too", pages=[tenants["a"], tenants["b"]])
    client.force_login(tenants["users"]["admin_a"])
    listing = client.get("/admin/accounts/apikey/").content.decode()
    assert "only-a" in listing
    assert "reaches-b-too" not in listing
    assert client.get(f"/admin/accounts/apikey/{a_and_b.pk}/change/").status_code == 404
    assert client.get(f"/admin/accounts/apikey/{only_a.pk}/change/").status_code == 200
