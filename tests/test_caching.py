"""Public responses carry an ETag from the page's version, answer 304, and change with the page."""

import pytest
from django.core.cache import caches
from django.test import override_settings

from incidents import services
from incidents.choices import ComponentStatus as S


def test_a_conditional_get_with_the_current_etag_answers_304(client, page, make_component):
    make_component("API")
    first = client.get("/")
    etag = first["ETag"]
    assert etag.startswith('"')
    assert len(etag) > 10
    assert "public" in first["Cache-Control"]
    again = client.get("/", headers={"if-none-match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert again["ETag"] == etag


def test_every_change_gives_a_new_etag_and_new_content(client, page, make_component):
    api = make_component("API")
    first = client.get("/")
    services.component_set_status(component=api, status=S.MAJOR_OUTAGE)
    after = client.get("/", headers={"if-none-match": first["ETag"]})
    assert after.status_code == 200
    assert after["ETag"] != first["ETag"]
    assert "Major Outage" in after.content.decode()


def test_the_version_moves_with_each_committed_change(page, make_component):
    before = page.version
    api = make_component("API")
    incident = services.incident_create(page=page, name="x", body="a", components={api: S.PARTIAL_OUTAGE})
    services.incident_post_update(incident=incident, body="b", status="resolved", components={api: S.OPERATIONAL})
    page.refresh_from_db()
    assert page.version == before + 3  # component, declaration, update


def test_a_failed_write_does_not_move_the_version(page):
    before = page.version
    with pytest.raises(Exception, match="body"):
        services.incident_create(page=page, name="x", body="")
    page.refresh_from_db()
    assert page.version == before


def test_each_address_has_its_own_etag(client, page):
    assert client.get("/")["ETag"] != client.get("/history")["ETag"]


def test_unknown_addresses_are_not_cached(client, page):
    assert client.get("/incidents/aaaaaaaaaaaa").status_code == 404
    assert not client.get("/incidents/aaaaaaaaaaaa").has_header("ETag")


def test_pages_are_cached_in_redis_and_invalidated_by_a_change(client, page, make_component, redis_url):
    redis_cache = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": redis_url,
            "KEY_PREFIX": f"test-{page.code}",
        }
    }
    api = make_component("API")
    with override_settings(CACHES=redis_cache):  # the setting_changed signal resets the cache handler
        redis = caches["default"]
        assert type(redis).__name__ == "RedisCache"
        first = client.get("/")
        key = f"public:{first['ETag']}"
        assert redis.get(key) is not None
        services.component_set_status(component=api, status=S.PARTIAL_OUTAGE)
        second = client.get("/")
        assert second["ETag"] != first["ETag"]
        assert "Partial Outage" in second.content.decode()
        assert client.get("/", headers={"if-none-match": second["ETag"]}).status_code == 304
        redis.delete_many([key, f"public:{second['ETag']}"])
