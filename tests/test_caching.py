"""Public responses carry an ETag from the page's version, answer 304, and change with the page."""

from datetime import timedelta

import pytest
import time_machine
from django.core.cache import cache, caches
from django.core.exceptions import ValidationError
from django.test import override_settings
from django.utils import timezone

from incidents import services
from incidents.choices import ComponentStatus as S
from incidents.models import Incident


@pytest.fixture
def frozen():
    """The ETag carries the current minute: keep the clock still so a test never straddles two minutes."""
    with time_machine.travel(timezone.now(), tick=False):
        yield


def test_a_conditional_get_with_the_current_etag_answers_304(client, page, make_component, frozen):
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


def test_a_write_that_fails_halfway_is_rolled_back_whole(page, make_component):
    api = make_component("API")
    page.refresh_from_db()
    before = page.version
    # The promise is checked after the incident row and its first update exist: everything must go.
    with pytest.raises(ValidationError, match="between 1 minute and 7 days"):
        services.incident_create(
            page=page, name="x", body="a", components={api: "major_outage"}, next_update_in=timedelta(days=30)
        )
    page.refresh_from_db()
    api.refresh_from_db()
    assert page.version == before
    assert api.status == "operational"
    assert not Incident.objects.exists()
    assert not api.status_changes.exists()


def test_each_address_has_its_own_etag(client, page):
    assert client.get("/")["ETag"] != client.get("/history")["ETag"]


def test_unknown_addresses_are_not_cached(client, page, frozen):
    from incidents.caching import public_etag

    response = client.get("/incidents/aaaaaaaaaaaa")
    assert response.status_code == 404
    assert not response.has_header("ETag")
    page.refresh_from_db()
    key = public_etag(page, response.wsgi_request, timezone.now())
    assert cache.get(f"public:{key}") is None


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


def test_unknown_query_parameters_share_one_cache_entry(client, page, make_component):
    make_component("API")
    etags = {client.get(f"/?utm_source=mail&x={n}")["ETag"] for n in range(5)}
    assert etags == {client.get("/")["ETag"]}
    assert client.get("/history?page=2")["ETag"] != client.get("/history")["ETag"]
    assert client.get("/history?page=junk")["ETag"] == client.get("/history")["ETag"]


def test_a_cached_response_keeps_its_headers(client, page):
    first = client.get("/maintenance.ics")
    again = client.get("/maintenance.ics")
    assert first["Content-Disposition"] == again["Content-Disposition"] == 'inline; filename="maintenance.ics"'
    assert again["Content-Type"] == "text/calendar; charset=utf-8"
