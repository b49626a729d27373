"""A role makes a user staff; the admin login tells a non-staff account the truth, not "wrong password"."""

import pytest
from bs4 import BeautifulSoup
from django.contrib.auth.models import Group

PASSWORD = "correct-horse-battery"


def change_form(user, *groups, staff=False):
    form = {
        "username": user.username, "is_active": "on",
        "groups": [Group.objects.get(name=name).pk for name in groups],
        "last_login_0": "", "last_login_1": "", "date_joined_0": "2025-01-01", "date_joined_1": "00:00:00",
    }  # fmt: skip
    if staff:
        form["is_staff"] = "on"
    return form


def login_errors(client, username, password) -> str:
    response = client.post("/admin/login/?next=/admin/", {"username": username, "password": password})
    return " ".join(BeautifulSoup(response.content, "html.parser").select_one(".errornote").get_text().split())


@pytest.mark.parametrize("role", ["Responders", "Page admins"])
def test_adding_a_user_to_a_role_makes_them_staff(client, page, page_admin, make_user, role):
    newbie = make_user("nina", staff=False)
    client.force_login(page_admin)
    response = client.post(f"/admin/auth/user/{newbie.pk}/change/", change_form(newbie, role), follow=True)
    assert response.status_code == 200
    newbie.refresh_from_db()
    assert newbie.is_staff
    assert "nina has a role, so they are now staff too" in response.content.decode()
    # And they can log in and work.
    client.logout()
    response = client.post("/admin/login/?next=/admin/", {"username": "nina", "password": PASSWORD})
    assert (response.status_code, response["Location"]) == (302, "/admin/")
    assert client.get("/admin/incidents/incident/").status_code == 200


def test_a_user_without_a_role_is_not_made_staff(client, page, page_admin, make_user):
    visitor = make_user("vic", staff=False)
    client.force_login(page_admin)
    response = client.post(f"/admin/auth/user/{visitor.pk}/change/", change_form(visitor))
    assert response.status_code == 302
    visitor.refresh_from_db()
    assert not visitor.is_staff


def test_the_user_form_says_that_a_role_makes_staff(client, page, page_admin, make_user):
    client.force_login(page_admin)
    html = client.get(f"/admin/auth/user/{make_user('vic', staff=False).pk}/change/").content.decode()
    assert "Responders and Page admins are made staff on save" in html


def test_a_non_staff_account_with_the_right_password_is_not_told_the_password_is_wrong(client, make_user):
    make_user("vic", staff=False)
    error = login_errors(client, "vic", PASSWORD)
    assert "password" not in error.lower()
    assert "This account has no access to the admin." in error
    assert "Responders or Page admins" in error


def test_a_wrong_password_still_gets_the_plain_answer(client, make_user):
    make_user("vic", staff=False)
    make_user("rita", "Responders")
    for username in ("vic", "rita", "nobody"):
        error = login_errors(client, username, "wrong-password")
        assert "Please enter the correct username and password for a staff account" in error
