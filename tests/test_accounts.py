"""The accounts app: API keys moved in from `api` without losing a row, and the roles' permissions."""

import importlib.util

import pytest
from django.contrib.auth.models import Group, Permission, User
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from accounts import roles
from accounts.models import ApiKey, hash_key
from api.auth import ApiKeyAuthentication
from incidents.permissions import COMPONENT_DETAILS

BEFORE_THE_MOVE = [("api", "0001_initial"), ("accounts", None)]


@pytest.mark.django_db(transaction=True)
def test_moving_api_keys_to_accounts_keeps_every_key_and_what_it_may_do():
    """An install from before the move (keys in the api app) migrates forward: same table, same rows, the keys
    still authenticate, and permissions given on API keys (to a group or a user) still count."""
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE_THE_MOVE)
    old = executor.loader.project_state(BEFORE_THE_MOVE[0]).apps
    OldUser, OldApiKey = old.get_model("auth", "User"), old.get_model("api", "ApiKey")
    ContentType.objects.clear_cache()
    old_type = ContentType.objects.get(app_label="api", model="apikey")  # as an install before the move has it
    assert not ContentType.objects.filter(app_label="accounts", model="apikey").exists()
    owner = OldUser.objects.create(username="ops", is_staff=True)
    OldApiKey.objects.create(user=owner, name="monitoring", prefix="sp_abcdefg", key_hash=hash_key("sp_abcdefg-key"))
    OldApiKey.objects.create(user=owner, name="old", prefix="sp_revoked", key_hash=hash_key("sp_revoked-key"))
    OldApiKey.objects.filter(name="old").update(revoked_at="2026-01-01T00:00:00Z")
    permission = Permission.objects.get(content_type=old_type, codename="add_apikey")
    old.get_model("auth", "User").user_permissions.through.objects.create(user_id=owner.pk, permission_id=permission.pk)

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
    ContentType.objects.clear_cache()
    assert ApiKey._meta.db_table == "api_apikey"
    assert list(ApiKey.objects.order_by("id").values_list("name", "user__username", "revoked_at__year")) == [
        ("monitoring", "ops", None),
        ("old", "ops", 2026),
    ]
    moved = ContentType.objects.get_for_model(ApiKey)
    assert moved.pk == old_type.pk
    assert (moved.app_label, moved.model) == ("accounts", "apikey")
    assert User.objects.get(username="ops").has_perm("accounts.add_apikey")

    class Request:
        META = {"HTTP_AUTHORIZATION": "OAuth sp_abcdefg-key"}

    user, key = ApiKeyAuthentication().authenticate(Request())
    assert (user.username, key.name) == ("ops", "monitoring")


def test_the_role_sync_gives_page_admins_the_keys_and_the_component_details_and_responders_neither(db):
    page_admins, responders = Group.objects.get(name=roles.PAGE_ADMINS), Group.objects.get(name=roles.RESPONDERS)
    admin_perms = {f"{p.content_type.app_label}.{p.codename}" for p in page_admins.permissions.all()}
    responder_perms = {f"{p.content_type.app_label}.{p.codename}" for p in responders.permissions.all()}
    keys = {"accounts.add_apikey", "accounts.change_apikey", "accounts.view_apikey"}
    assert keys | {COMPONENT_DETAILS, "auth.change_user"} <= admin_perms
    assert responder_perms == roles.RESPONDER_PERMISSIONS
    assert not any(p.startswith("api.") for p in admin_perms)  # the api app has no models left


def test_the_old_homes_of_keys_and_roles_are_gone():
    for old in ("api.models", "api.admin", "incidents.roles", "incidents.admin.users"):
        assert importlib.util.find_spec(old) is None, old
