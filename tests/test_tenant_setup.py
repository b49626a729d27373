"""Setting pages up as tenants: the migration that keeps today's installs working, the operators' commands, and
keys in URLs switched off."""

from io import StringIO

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from accounts.models import ApiKey, Membership, hash_key
from incidents.models import Page
from tests.api_support import Api

BEFORE_MEMBERSHIP = [("accounts", "0001_initial")]


@pytest.mark.django_db(transaction=True)
def test_the_migration_makes_staff_members_of_every_page_with_their_role_and_keeps_their_keys_working(client):
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE_MEMBERSHIP)
    leaves = [node for node in executor.loader.graph.leaf_nodes() if node[0] == "incidents"]
    old = executor.loader.project_state([*BEFORE_MEMBERSHIP, *leaves]).apps  # historical models: no audit yet
    OldUser, OldGroup, OldKey, OldPage = (
        old.get_model(*m) for m in (("auth", "User"), ("auth", "Group"), ("accounts", "ApiKey"), ("incidents", "Page"))
    )
    for name, code in (("A", "aaaaaaaaaaaa"), ("B", "bbbbbbbbbbbb")):
        OldPage.objects.create(name=name, code=code)
    people = {}
    for name, group, staff in (("adam", "Page admins", True), ("rita", "Responders", True), ("gone", "Responders", False),
                               ("both", "Responders", True), ("intern", None, True)):  # fmt: skip
        people[name] = OldUser.objects.create(username=name, is_staff=staff)
        if group:
            people[name].groups.add(OldGroup.objects.get_or_create(name=group)[0])
    people["both"].groups.add(OldGroup.objects.get(name="Page admins"))
    OldKey.objects.create(user_id=people["rita"].pk, prefix="sp_rita", key_hash=hash_key("sp_rita-key"))

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
    roles = sorted(Membership.objects.values_list("user__username", "page__code", "role"))
    assert roles == [
        ("adam", "aaaaaaaaaaaa", "page_admin"), ("adam", "bbbbbbbbbbbb", "page_admin"),
        ("both", "aaaaaaaaaaaa", "page_admin"), ("both", "bbbbbbbbbbbb", "page_admin"),
        ("rita", "aaaaaaaaaaaa", "responder"), ("rita", "bbbbbbbbbbbb", "responder"),
    ]  # fmt: skip
    key = ApiKey.objects.get(prefix="sp_rita")
    assert sorted(key.pages.values_list("code", flat=True)) == ["aaaaaaaaaaaa", "bbbbbbbbbbbb"]
    assert Api(client, Page.objects.get(code="bbbbbbbbbbbb"), "sp_rita-key").get("incidents").status_code == 200


def test_add_member_gives_a_role_on_one_page_and_makes_the_user_staff(page, other_page):
    user = User.objects.create_user("ops")
    out = StringIO()
    call_command("add_member", "ops", page.code, "--role", "responder", stdout=out)
    call_command("add_member", "ops", page.code, "--role", "page_admin", stdout=out)  # replaces the role
    assert list(Membership.objects.values_list("user__username", "page", "role")) == [("ops", page.pk, "page_admin")]
    user.refresh_from_db()
    assert user.is_staff
    assert user.has_perm("incidents.change_page", page)
    assert not user.has_perm("incidents.view_page", other_page)
    with pytest.raises(CommandError, match="No page with the id 'nope'"):
        call_command("add_member", "ops", "nope", "--role", "responder")
    with pytest.raises(CommandError, match="invalid choice"):
        call_command("add_member", "ops", page.code, "--role", "owner")


def test_create_api_key_limits_a_key_to_pages_and_makes_read_only_keys(client, page, other_page):
    user = User.objects.create_user("ops")
    call_command("add_member", "ops", page.code, "--role", "page_admin", stdout=StringIO())
    with pytest.raises(CommandError, match="ops is not a member of Other Corp"):
        call_command("create_api_key", "ops", "--page", other_page.code, stdout=StringIO())
    out = StringIO()
    call_command("create_api_key", "ops", "--page", page.code, "--read-only", stdout=out)
    key = out.getvalue().strip()
    row = ApiKey.objects.get(key_hash=hash_key(key))
    assert (row.user, row.read_only, list(row.pages.all())) == (user, True, [page])
    api = Api(client, page, key)
    assert api.get("incidents").status_code == 200
    refused = api.post("incidents", {"incident": {"name": "x", "body": "y"}})
    assert (refused.status_code, refused.json()) == (403, {"error": "This API key is read-only."})


def test_keys_in_the_url_can_be_switched_off(client, page, responder_key, settings):
    url = f"/api/v1/pages/{page.code}/incidents"
    assert client.get(url, {"api_key": responder_key}).status_code == 200
    settings.API_KEY_IN_QUERY = False
    assert client.get(url, {"api_key": responder_key}).status_code == 401
    assert client.get(url, HTTP_AUTHORIZATION=f"OAuth {responder_key}").status_code == 200


def test_the_role_on_the_page_decides_not_the_group(page, make_user):
    """A page admin by group who is a responder on the page may do there what a responder may, no more."""
    user = make_user("adam", "Page admins")
    call_command("add_member", "adam", page.code, "--role", "responder", stdout=StringIO())
    user = User.objects.get(pk=user.pk)
    assert user.has_perm("incidents.change_incident", page)
    assert not user.has_perm("incidents.delete_incident", page)
    assert not user.has_perm("incidents.change_page", page)
