"""Another page can be made the default one: / serves it at once, the old default stays at /p/<code>/."""

import pytest
from django.contrib.admin import helpers

from incidents import page_services
from incidents.models import Page


def make_default_by_admin(client, user, page):
    client.force_login(user)
    return client.post("/admin/incidents/page/", {"action": "make_default", helpers.ACTION_CHECKBOX_NAME: [page.pk]})


def test_a_page_admin_makes_another_page_the_default_and_slash_follows_at_once(
    client, page, other_page, page_admin, django_capture_on_commit_callbacks, django_assert_num_queries
):
    assert "Acme Cloud" in client.get("/").content.decode()
    assert "Acme Cloud" in client.get("/").content.decode()  # now a cached hit
    with django_capture_on_commit_callbacks(execute=True):
        response = make_default_by_admin(client, page_admin, other_page)
    assert response.status_code == 302
    client.logout()
    assert list(Page.objects.filter(is_default=True)) == [other_page]
    first = client.get("/")
    assert "Other Corp" in first.content.decode()
    with django_assert_num_queries(0):
        again = client.get("/")  # a cached hit, and still the new default
    assert "Other Corp" in again.content.decode()
    old = client.get(f"/p/{page.code}/")
    assert old.status_code == 200
    assert "Acme Cloud" in old.content.decode()
    assert client.get(f"/p/{other_page.code}/").status_code in (200, 301, 302)


def test_both_pages_get_a_new_version(page, other_page):
    versions = (page.version, other_page.version)
    page_services.page_make_default(page=other_page)
    page.refresh_from_db()
    other_page.refresh_from_db()
    assert (page.is_default, other_page.is_default) == (False, True)
    assert page.version > versions[0]
    assert other_page.version > versions[1]


def test_making_the_default_page_the_default_again_changes_nothing(page, other_page):
    version = page.version
    page_services.page_make_default(page=page)
    page.refresh_from_db()
    assert page.is_default
    assert page.version == version
    assert Page.objects.filter(is_default=True).count() == 1


@pytest.mark.parametrize("how_many", [0, 2])
def test_the_action_needs_exactly_one_page(client, page, other_page, page_admin, how_many):
    client.force_login(page_admin)
    chosen = [page.pk, other_page.pk][:how_many]
    response = client.post(
        "/admin/incidents/page/", {"action": "make_default", helpers.ACTION_CHECKBOX_NAME: chosen}, follow=True
    )
    assert response.status_code == 200
    assert Page.objects.get(is_default=True) == page


def test_responders_cannot_change_the_default_page(client, page, other_page, responder):
    response = make_default_by_admin(client, responder, other_page)
    assert response.status_code in (200, 302, 403)
    assert Page.objects.get(is_default=True) == page
