"""What each role can and cannot do in the admin."""

import pytest

from incidents import services
from incidents.models import Component
from tests.api_support import grant_role


@pytest.fixture
def incident(page, make_component):
    api = make_component("API")
    return services.incident_create(page=page, name="API errors", body="Looking.", components={api: "major_outage"})


def test_the_roles_exist_after_migrate(db):
    from django.contrib.auth.models import Group

    names = set(Group.objects.values_list("name", flat=True))
    assert {"Responders", "Page admins"} <= names


@pytest.mark.parametrize(
    ("url", "responder_status", "admin_status"),
    [
        ("/admin/incidents/incident/", 200, 200),
        ("/admin/incidents/incident/add/", 200, 200),
        ("/admin/incidents/component/", 200, 200),
        ("/admin/incidents/incidenttemplate/", 200, 200),
        ("/admin/incidents/page/", 200, 200),  # view only for responders
        ("/admin/incidents/page/add/", 403, 200),
        ("/admin/incidents/component/add/", 403, 200),
        ("/admin/incidents/componentgroup/add/", 403, 200),
        ("/admin/incidents/incidenttemplate/add/", 403, 200),
        ("/admin/auth/user/", 403, 200),
    ],
)
def test_each_role_reaches_its_screens(client, page, responder, page_admin, url, responder_status, admin_status):
    client.force_login(responder)
    assert client.get(url).status_code == responder_status
    client.force_login(page_admin)
    assert client.get(url).status_code == admin_status


def test_non_staff_never_reach_the_admin(client, page, make_user, incident):
    client.force_login(make_user("visitor", staff=False))
    for url in ("/admin/", "/admin/incidents/incident/", f"/admin/incidents/incident/{incident.pk}/change/"):
        response = client.get(url)
        assert response.status_code == 302
        assert "/admin/login/" in response["Location"]
    response = client.post(f"/admin/incidents/incident/{incident.pk}/change/", {"status": "resolved", "body": "x"})
    assert response.status_code == 302
    assert incident.updates.count() == 1


def test_staff_without_a_role_can_look_at_nothing(client, page, make_user, incident):
    client.force_login(make_user("intern"))
    assert client.get("/admin/incidents/incident/").status_code == 403
    assert client.get(f"/admin/incidents/incident/{incident.pk}/change/").status_code == 404  # a member of no page


def test_responders_can_post_updates_but_not_delete_incidents(client, page, responder, incident):
    client.force_login(responder)
    response = client.post(
        f"/admin/incidents/incident/{incident.pk}/change/", {"status": "identified", "body": "Found it."}
    )
    assert response.status_code == 302
    assert incident.updates.count() == 2
    assert client.get(f"/admin/incidents/incident/{incident.pk}/delete/").status_code == 403
    assert client.post(f"/admin/incidents/incident/{incident.pk}/delete/", {"post": "yes"}).status_code == 403


def test_page_admins_can_delete_incidents(client, page, page_admin, incident):
    client.force_login(page_admin)
    response = client.post(f"/admin/incidents/incident/{incident.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not type(incident).objects.filter(pk=incident.pk).exists()


def test_responders_change_only_a_components_status(client, page, responder, make_component):
    api = make_component("API")
    client.force_login(responder)
    response = client.post(
        f"/admin/incidents/component/{api.pk}/change/",
        {"status": "partial_outage", "name": "Renamed", "position": 99},
    )
    assert response.status_code == 302
    api.refresh_from_db()
    assert (api.status, api.name, api.position) == ("partial_outage", "API", 0)
    change = api.status_changes.get()
    assert change.author == responder


def test_a_quick_status_change_from_the_list_is_recorded_with_its_author(client, page, responder, make_component):
    api, web = make_component("API"), make_component("Web")
    client.force_login(responder)
    data = {
        "form-TOTAL_FORMS": "2", "form-INITIAL_FORMS": "2",
        "form-0-id": str(api.pk), "form-0-status": "major_outage",
        "form-1-id": str(web.pk), "form-1-status": "operational",
        "_save": "Save",
    }  # fmt: skip
    response = client.post("/admin/incidents/component/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    api.refresh_from_db()
    assert api.status == "major_outage"
    assert api.status_changes.get().author == responder
    assert not Component.objects.get(pk=web.pk).status_changes.exists()


def test_page_admins_edit_pages_through_the_services(client, page, page_admin):
    client.force_login(page_admin)
    version = page.version
    response = client.post(
        f"/admin/incidents/page/{page.pk}/change/",
        {"name": "Acme Cloud Status", "time_zone": "Europe/Berlin", "url": "", "support_url": "mailto:help@acme.example",
         "accent_colour": "#aa3300"},
    )  # fmt: skip
    assert response.status_code == 302
    page.refresh_from_db()
    assert (page.name, page.time_zone, page.accent_colour) == ("Acme Cloud Status", "Europe/Berlin", "#aa3300")
    assert page.version > version
    bad = client.post(
        f"/admin/incidents/page/{page.pk}/change/",
        {"name": "x", "time_zone": "Nowhere/Land", "accent_colour": "red"},
    )
    assert bad.status_code == 200
    assert "time zone" in bad.content.decode().lower()


PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
    b"\x00\x00\x00\rIDATx\x9cc\xf8\xcf\xc0\xf0\x1f\x00\x05\x00\x01\xff\x89\x99=\x1d\x00\x00\x00\x00IEND\xaeB`\x82"
)


def test_a_page_admin_sets_the_branding_shown_on_the_public_page(client, page, page_admin):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(page_admin)
    form = {"name": page.name, "time_zone": "UTC", "url": "https://acme.example", "accent_colour": "#aa3300",
            "support_url": "mailto:help@acme.example"}  # fmt: skip
    svg = SimpleUploadedFile("logo.svg", b"<svg onload=alert(1)></svg>", content_type="image/svg+xml")
    refused = client.post(
        f"/admin/incidents/page/{page.pk}/change/", {**form, "name": "Typed name", "logo_upload": svg}
    )
    assert refused.status_code == 200
    assert "PNG, JPEG, GIF or WebP" in refused.content.decode()
    assert 'value="Typed name"' in refused.content.decode()
    page.refresh_from_db()
    assert (page.name, page.logo_type) == ("Acme Cloud", "")
    png = SimpleUploadedFile("logo.png", PNG, content_type="image/png")
    assert client.post(f"/admin/incidents/page/{page.pk}/change/", {**form, "logo_upload": png}).status_code == 302
    html = client.get("/").content.decode()
    assert 'href="/accent.css"' in html
    assert "--accent: #aa3300" in client.get("/accent.css").content.decode()
    assert 'href="mailto:help@acme.example"' in html
    assert '<img class="logo" src="/logo"' in html
    logo = client.get("/logo")
    assert (logo["Content-Type"], logo.content) == ("image/png", PNG)
    client.post(f"/admin/incidents/page/{page.pk}/change/", {**form, "remove_logo": "on"})
    assert client.get("/logo").status_code == 404


def test_a_support_link_must_be_a_web_or_mail_address(client, page, page_admin):
    client.force_login(page_admin)
    response = client.post(
        f"/admin/incidents/page/{page.pk}/change/",
        {"name": page.name, "time_zone": "UTC", "accent_colour": "#aa3300", "support_url": "javascript:alert(1)"},
    )
    assert response.status_code == 200
    page.refresh_from_db()
    assert page.support_url == ""


def test_a_page_admin_cannot_make_anyone_a_superuser(client, page, page_admin, make_user):
    responder = make_user("rita", "Responders")
    client.force_login(page_admin)
    form = client.get(f"/admin/auth/user/{responder.pk}/change/")
    assert form.status_code == 200
    assert 'name="is_superuser"' not in form.content.decode()
    assert 'name="user_permissions"' not in form.content.decode()
    from django.contrib.auth.models import Group, Permission

    everything = Permission.objects.get(codename="delete_user")
    secret_group = Group.objects.create(name="Secret powers")
    form = {
        "username": "adam", "is_active": "on", "is_staff": "on", "is_superuser": "on",
        "user_permissions": [everything.pk], "groups": [Group.objects.get(name="Page admins").pk],
        "last_login_0": "", "last_login_1": "", "date_joined_0": "2025-01-01", "date_joined_1": "00:00:00",
    }  # fmt: skip
    # A valid form is saved, but the superuser flag and the permissions are not fields a page admin has.
    assert client.post(f"/admin/auth/user/{page_admin.pk}/change/", form).status_code == 302
    page_admin.refresh_from_db()
    assert not page_admin.is_superuser
    assert not page_admin.user_permissions.exists()
    # Only the two roles can be given.
    refused = client.post(f"/admin/auth/user/{page_admin.pk}/change/", {**form, "groups": [secret_group.pk]})
    assert refused.status_code == 200
    assert secret_group not in page_admin.groups.all()


def test_a_page_admin_cannot_touch_a_superuser(client, page, page_admin):
    from django.contrib.auth.models import User

    root = User.objects.create_superuser("root", "root@example.com", "x")
    client.force_login(page_admin)
    # Superusers are out of a page admin's list: the admin answers as for a missing user (404).
    assert client.get(f"/admin/auth/user/{root.pk}/change/").status_code == 404
    assert client.post(f"/admin/auth/user/{root.pk}/delete/", {"post": "yes"}).status_code == 404
    assert User.objects.filter(pk=root.pk, is_superuser=True).exists()
    assert "root" not in client.get("/admin/auth/user/").content.decode()


def test_the_default_page_cannot_be_deleted(client, page, page_admin):
    client.force_login(page_admin)
    assert client.post(f"/admin/incidents/page/{page.pk}/delete/", {"post": "yes"}).status_code == 403
    assert type(page).objects.filter(pk=page.pk).exists()


def test_a_component_cannot_join_another_pages_group(client, page, page_admin, make_component):
    other = services.page_create(name="Other")
    grant_role(page_admin, "Page admins", [other])  # even a page admin of both pages
    foreign = services.component_group_create(page=other, name="Theirs")
    api = make_component("API")
    client.force_login(page_admin)
    response = client.post(f"/admin/incidents/component/{api.pk}/change/", {
        "group": foreign.pk, "name": "API", "description": "", "status": "operational", "position": 0, "showcase": "on",
    })  # fmt: skip
    assert response.status_code == 200
    assert "belongs to another page" in response.content.decode()
    api.refresh_from_db()
    assert api.group is None
