"""Who may read a page, through the manage API: PATCH /api/v1/pages/<id> sets its visibility (password,
allowed domains), and page_access_users (Statuspage's name for named viewers) lists, adds, changes, removes."""

from incidents import access_services
from incidents.models import Page, Viewer


def patch_page(api, page, fields):
    return api.client.patch(
        f"/api/v1/pages/{page.code}", {"page": fields}, content_type="application/json", headers=api.headers()
    )


def test_a_page_admin_makes_the_page_private_and_strangers_then_read_nothing(admin_api, page, client):
    assert client.get("/").status_code == 200
    response = patch_page(admin_api, page, {"visibility": "private"})
    assert response.status_code == 200, response.content
    assert response.json()["visibility"] == "private"
    assert client.get("/").status_code == 401
    assert client.get("/api/v2/summary.json").status_code == 401


def test_a_password_page_needs_a_password_and_a_bad_one_changes_nothing(admin_api, page):
    refused = patch_page(admin_api, page, {"name": "Renamed", "visibility": "password"})
    assert refused.status_code == 422
    assert "password" in refused.json()["error"]
    page.refresh_from_db()
    assert (page.name, page.visibility) == ("Acme Cloud", "public")  # all or nothing
    assert patch_page(admin_api, page, {"visibility": "password", "password": "short"}).status_code == 422
    done = patch_page(admin_api, page, {"visibility": "password", "password": "correct horse"})
    assert done.status_code == 200
    assert "password" not in done.json()
    page.refresh_from_db()
    assert page.visibility == "password"
    assert page.password_hash.startswith(("md5$", "pbkdf2"))


def test_email_domain_pages_take_their_domains_as_a_list(admin_api, page):
    response = patch_page(
        admin_api, page, {"visibility": "email_domain", "allowed_domains": ["Example.COM", "acme.io"]}
    )
    assert response.status_code == 200, response.content
    assert response.json()["allowed_domains"] == ["example.com", "acme.io"]
    assert patch_page(admin_api, page, {"allowed_domains": ["not a domain"]}).status_code == 422
    assert Page.objects.get(pk=page.pk).domain_list() == ["example.com", "acme.io"]


def test_page_access_users_are_listed_added_changed_and_removed(admin_api, page):
    group = access_services.audience_group_create(page=page, name="Enterprise")
    created = admin_api.post("page_access_users", {"page_access_user": {"email": "Ada@Example.com"}})
    assert created.status_code == 201, created.content
    viewer = created.json()
    assert (viewer["email"], viewer["page_id"], viewer["page_access_group_id"]) == ("ada@example.com", page.code, None)
    assert admin_api.post("page_access_users", {"page_access_user": {"email": "ada@example.com"}}).status_code == 422
    assert [v["email"] for v in admin_api.get("page_access_users.json").json()] == ["ada@example.com"]
    changed = admin_api.patch(
        f"page_access_users/{viewer['id']}", {"page_access_user": {"page_access_group_id": str(group.pk)}}
    )
    assert changed.status_code == 200, changed.content
    assert changed.json()["page_access_group_ids"] == [str(group.pk)]
    unknown = admin_api.patch(
        f"page_access_users/{viewer['id']}", {"page_access_user": {"page_access_group_id": "999999"}}
    )
    assert unknown.status_code == 422
    assert admin_api.delete(f"page_access_users/{viewer['id']}").status_code == 204
    assert not Viewer.objects.filter(page=page).exists()
    assert admin_api.get(f"page_access_users/{viewer['id']}").status_code == 404


def test_responders_cannot_name_viewers(responder_api, page):
    response = responder_api.post("page_access_users", {"page_access_user": {"email": "ada@example.com"}})
    assert response.status_code == 403
    assert not Viewer.objects.exists()
