"""API keys: created by command or admin, stored hashed, revocable; what a key may do follows its user's role."""

from io import StringIO

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.utils import timezone

from accounts import roles
from accounts.models import ApiKey, hash_key
from incidents import services
from incidents.models import Incident
from tests.api_support import Api, user_with_role


@pytest.fixture
def world(page, make_component):
    component = make_component("API")
    incident = services.incident_create(page=page, name="Slow", body="Looking.")
    return {"component": component, "incident": incident, "update": incident.updates.get()}


def calls(world):
    """(what, method, path, body) for one call of each kind; responders may make the first group only."""
    c, i, u = world["component"].code, world["incident"].code, world["update"].code
    responder = [
        ("list incidents", "get", "incidents", None),
        ("declare", "post", "incidents", {"incident": {"name": "New", "body": "Hi"}}),
        ("post an update", "patch", f"incidents/{i}", {"incident": {"body": "More", "status": "identified"}}),
        ("edit an update", "patch", f"incidents/{i}/incident_updates/{u}", {"incident_update": {"body": "Edited"}}),
        ("set a component status", "patch", f"components/{c}", {"component": {"status": "major_outage"}}),
        ("list components", "get", "components", None),
        ("list templates", "get", "incident_templates", None),
    ]
    admin = [
        ("rename a component", "patch", f"components/{c}", {"component": {"name": "Renamed"}}),
        ("create a component", "post", "components", {"component": {"name": "CDN"}}),
        ("create a group", "post", "component-groups", {"component_group": {"name": "Edge"}}),
        (
            "create a template",
            "post",
            "incident_templates",
            {"incident_template": {"name": "t", "title": "T", "body": "B"}},
        ),
    ]
    return responder, admin


def call(api, method, path, body):
    return api.get(path) if method == "get" else api.send(method, path, body)


def test_the_authorisation_matrix(client, page, world, responder_key, admin_key, nobody_key):
    responder_calls, admin_calls = calls(world)
    revoked_row, revoked = ApiKey.issue(User.objects.get(username="adam"))
    revoked_row.revoke()
    expected = {
        None: (401, 401),
        "garbage-key": (401, 401),
        revoked: (401, 401),
        nobody_key: (404, 404),  # its user lost their role on the page: to the key, the page is not there
        responder_key: (200, 403),
        admin_key: (200, 200),
    }
    for key, (for_responder_calls, for_admin_calls) in expected.items():
        api = Api(client, page, key)
        for calls_, wanted in ((responder_calls, for_responder_calls), (admin_calls, for_admin_calls)):
            for what, method, path, body in calls_:
                response = call(api, method, path, body)
                got = 200 if response.status_code in (200, 201) else response.status_code
                assert got == wanted, (key, what, response.content)
                assert "error" in response.json() or got == 200


def test_a_key_used_on_another_page_finds_none_of_this_pages_objects(client, page, other_page, world, admin_key):
    elsewhere = Api(client, other_page, admin_key)
    i, c = world["incident"].code, world["component"].code
    assert elsewhere.get(f"incidents/{i}").status_code == 404
    assert elsewhere.patch(f"incidents/{i}", {"incident": {"body": "x"}}).status_code == 404
    assert elsewhere.patch(f"components/{c}", {"component": {"status": "major_outage"}}).status_code == 404
    assert elsewhere.delete(f"incidents/{i}").status_code == 404
    assert Incident.objects.filter(pk=world["incident"].pk).exists()
    assert elsewhere.get("incidents").json() == []
    assert Api(client, page, admin_key).get(f"incidents/{i}").status_code == 200


@pytest.mark.parametrize("how", ["oauth", "bearer", "query"])
def test_a_key_works_in_each_documented_place(client, page, responder_key, how):
    url = f"/api/v1/pages/{page.code}/incidents"
    if how == "query":
        response = client.get(url, {"api_key": responder_key})
    else:
        response = client.get(url, headers={"Authorization": f"{how.title()} {responder_key}"})
    assert response.status_code == 200


def test_an_unknown_authorization_scheme_is_401_with_a_challenge(client, page, responder_key):
    response = client.get(f"/api/v1/pages/{page.code}/incidents", headers={"Authorization": f"Basic {responder_key}"})
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("OAuth")


def test_keys_are_stored_hashed_and_record_their_last_use(client, page, responder_key):
    row = ApiKey.objects.get()
    assert row.key_hash == hash_key(responder_key)
    assert responder_key not in (row.key_hash, row.prefix, row.name)
    assert responder_key.startswith(row.prefix)
    assert row.last_used_at is None
    Api(client, page, responder_key).get("incidents")
    row.refresh_from_db()
    assert row.last_used_at is not None


def test_create_api_key_prints_only_a_working_key(client, page, db):
    user_with_role("ops", roles.RESPONDERS)
    out = StringIO()
    call_command("create_api_key", "ops", stdout=out)
    key = out.getvalue().strip()
    assert "\n" not in key
    assert ApiKey.objects.get(key_hash=hash_key(key)).user.username == "ops"
    assert Api(client, page, key).get("incidents").status_code == 200


def test_create_api_key_refuses_an_unknown_user(db):
    with pytest.raises(CommandError, match="No user"):
        call_command("create_api_key", "ghost", stdout=StringIO())
    assert not ApiKey.objects.exists()


def test_the_admin_shows_a_new_key_once_and_revokes_keys(client, page, db):
    boss = User.objects.create_superuser("boss", "boss@example.com", "pw")
    client.force_login(boss)
    response = client.post(
        "/admin/accounts/apikey/add/", {"user": boss.pk, "name": "CI", "pages": [page.pk]}, follow=True
    )
    assert response.status_code == 200
    shown = [str(m) for m in response.context["messages"]]
    key = next(m.split("The new API key is ")[1].split(" ")[0] for m in shown if "The new API key is" in m)
    row = ApiKey.objects.get()
    assert row.key_hash == hash_key(key)
    assert key not in client.get(f"/admin/accounts/apikey/{row.pk}/change/").content.decode()
    client.post("/admin/accounts/apikey/", {"action": "revoke", "_selected_action": [row.pk]})
    row.refresh_from_db()
    assert row.revoked_at is not None
    client.logout()
    assert Api(client, page, key).get("incidents").status_code == 401


def test_over_the_rate_limit_a_key_gets_429_with_retry_after(client, page, responder_key, admin_key, settings):
    settings.API_RATE_LIMIT = "3/minute"
    api = Api(client, page, responder_key)
    assert [api.get("incidents").status_code for _ in range(3)] == [200, 200, 200]
    limited = api.get("incidents")
    assert limited.status_code == 429
    assert 1 <= int(limited["Retry-After"]) <= 60
    assert "error" in limited.json()
    assert Api(client, page, admin_key).get("incidents").status_code == 200  # counted per key


def test_the_rate_limit_is_counted_in_redis_when_it_is_the_cache(client, page, responder_key, settings, redis_url):
    settings.CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": redis_url,
            "KEY_PREFIX": f"t{timezone.now().timestamp()}",
        }
    }
    settings.API_RATE_LIMIT = "2/minute"
    api = Api(client, page, responder_key)
    assert [api.get("incidents").status_code for _ in range(3)] == [200, 200, 429]
