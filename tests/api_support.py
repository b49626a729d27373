"""Fixtures and helpers for the API tests: users in the two roles, their keys, and calls with a key."""

import json
from urllib.parse import urlencode

import pytest
from django.contrib.auth.models import Group, User

from accounts import roles
from accounts.models import ApiKey, Role
from accounts.services import member_set
from incidents import services
from incidents.models import Page

ROLE_OF_GROUP = {roles.RESPONDERS: Role.RESPONDER, roles.PAGE_ADMINS: Role.PAGE_ADMIN}


def grant_role(user, role: str, pages=None) -> None:
    """Make the user a member of `pages` (default: every page so far) in the role named as its group."""
    for page in Page.objects.all() if pages is None else pages:
        member_set(user=user, page=page, role=ROLE_OF_GROUP[role])


def user_with_role(username: str, role: str | None, pages=None) -> User:
    user = User.objects.create_user(username)
    if role:
        user.groups.add(Group.objects.get_or_create(name=role)[0])
        grant_role(user, role, pages)
    return user


@pytest.fixture
def responder_key(db, page) -> str:
    return ApiKey.issue(user_with_role("rita", roles.RESPONDERS), name="pager")[1]


@pytest.fixture
def admin_key(db, page) -> str:
    return ApiKey.issue(user_with_role("adam", roles.PAGE_ADMINS), name="terraform")[1]


@pytest.fixture
def nobody_key(db, page) -> str:
    """A key of a user with no role, on the page (as if the user had lost their role since)."""
    return ApiKey.issue(user_with_role("nina", None), pages=[page])[1]


@pytest.fixture
def other_page(db, page):
    return services.page_create(name="Other Corp", time_zone="Europe/Paris")


class Api:
    """Calls to the manage API of one page with one key."""

    def __init__(self, client, page, key):
        self.client, self.page, self.key = client, page, key

    def url(self, path: str) -> str:
        return f"/api/v1/pages/{self.page.code}/{path}"

    def headers(self):
        return {"Authorization": f"OAuth {self.key}"} if self.key else {}

    def get(self, path, **params):
        return self.client.get(self.url(path), params, headers=self.headers())

    def send(self, method, path, body):
        return getattr(self.client, method)(
            self.url(path), json.dumps(body), content_type="application/json", headers=self.headers()
        )

    def send_form(self, method, path, fields: list[tuple[str, str]]):
        """A form-encoded body: [("incident[name]", "…"), ("incident[components][<id>]", "major_outage"), …]."""
        return getattr(self.client, method)(
            self.url(path), urlencode(fields), content_type="application/x-www-form-urlencoded", headers=self.headers()
        )

    def post(self, path, body):
        return self.send("post", path, body)

    def patch(self, path, body):
        return self.send("patch", path, body)

    def put(self, path, body):
        return self.send("put", path, body)

    def delete(self, path):
        return self.client.delete(self.url(path), headers=self.headers())


@pytest.fixture
def admin_api(client, page, admin_key):
    return Api(client, page, admin_key)


@pytest.fixture
def responder_api(client, page, responder_key):
    return Api(client, page, responder_key)
