"""Public responses: ETagged by the page's version, stored precompressed, served without a query or a render."""

import gzip
import time
from datetime import timedelta

import brotli
import pytest
import time_machine
from django.core.cache import cache, caches
from django.core.exceptions import ValidationError
from django.db.models import F
from django.test import Client
from django.utils import timezone

from incidents import services
from incidents.choices import ComponentStatus as S
from incidents.models import Incident, Page
from incidents.public_cache import budget, store
from incidents.public_cache.encoding import accepted_coding
from incidents.public_cache.state import state_key
from tests.conftest import clear_cache

PUBLIC_PATHS = ["/", "/incidents/{code}", "/api/v2/summary.json"]


@pytest.fixture
def frozen():
    """The ETag carries the current minute: keep the clock still so a test never straddles two minutes."""
    with time_machine.travel(timezone.now(), tick=False):
        yield


@pytest.fixture
def incident(page, make_component):
    api = make_component("API")
    return services.incident_create(
        page=page, name="Slow API", body="We look into it.", components={api: S.PARTIAL_OUTAGE}
    )


@pytest.fixture
def redis_cache(redis_url, page, settings):
    """The project's Redis cache backend (breaker and timeouts) beside REDIS_URL, under this test's own prefix."""
    from statuspage.settings import _next_redis_db

    settings.CACHES = {
        "default": {
            "BACKEND": "incidents.public_cache.backend.ResilientRedisCache",
            "LOCATION": _next_redis_db(redis_url),
            "KEY_PREFIX": f"test-cache-{page.code}",
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.1, "SOCKET_TIMEOUT": 0.1},
        }
    }
    redis = caches["default"]
    assert type(redis).__name__ == "ResilientRedisCache"
    yield redis
    redis.delete_pattern("*")


@pytest.fixture(params=["locmem", "redis"])
def any_cache(request, page):
    if request.param == "redis":
        return request.getfixturevalue("redis_cache")
    return caches["default"]


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
    assert again["Vary"] == "Accept-Encoding"


@pytest.mark.parametrize("path", PUBLIC_PATHS)
def test_a_cached_hit_runs_no_query(client, page, incident, any_cache, django_assert_num_queries, frozen, path):
    path = path.format(code=incident.code)
    first = client.get(path, headers={"accept-encoding": "gzip, br"})
    assert first.status_code == 200
    store.local.clear()  # the next hit reads the shared cache (Redis in the redis variant), not this process's copy
    for encoding in ("gzip, br", "gzip", ""):
        with django_assert_num_queries(0):
            hit = client.get(path, headers={"accept-encoding": encoding})
        assert hit.status_code == 200
    with django_assert_num_queries(0):
        assert client.get(path, headers={"if-none-match": hit["ETag"]}).status_code == 304


@pytest.mark.parametrize("path", PUBLIC_PATHS)
def test_a_write_is_visible_on_the_next_request(client, page, incident, any_cache, frozen, path):
    path = path.format(code=incident.code)
    first = client.get(path)
    client.get(path)  # cached
    services.incident_post_update(incident=incident, body="Fixed by a rollback.", status="resolved")
    after = client.get(path, headers={"if-none-match": first["ETag"]})
    assert after.status_code == 200
    assert after["ETag"] != first["ETag"]
    assert after.content != first.content


def test_the_committed_version_is_published_for_the_next_hit(page, make_component, django_capture_on_commit_callbacks):
    api = make_component("API")
    with django_capture_on_commit_callbacks(execute=True):
        services.component_set_status(component=api, status=S.MAJOR_OUTAGE)
    page.refresh_from_db()
    assert cache.get(state_key(page.code)).version == page.version
    assert cache.get(state_key(None)).version == page.version  # the default page, served at /


def test_a_write_in_another_process_shows_once_the_reused_version_expires(client, page, settings, frozen):
    settings.PUBLIC_STATE_REUSE_MS = 100
    first = client.get("/")["ETag"]
    # Another process's write: the version moves in the database and in the shared cache, not in this process.
    Page.objects.filter(pk=page.pk).update(version=F("version") + 1)
    cache.delete_many([state_key(None), state_key(page.code)])
    assert client.get("/")["ETag"] == first
    time.sleep(0.15)
    assert client.get("/")["ETag"] != first


def test_a_write_clears_the_cached_version_before_it_commits(client, page, make_component):
    client.get("/")
    assert cache.get(state_key(None)) is not None
    make_component("API")  # in the test's transaction: its after-commit hook never runs
    assert cache.get(state_key(None)) is None


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


# -- encodings ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "coding"),
    [
        ("", "identity"),
        ("gzip, deflate, br, zstd", "br"),
        ("gzip", "gzip"),
        ("x-gzip", "gzip"),
        ("br;q=0, gzip", "gzip"),
        ("gzip;q=0.5, br;q=0.4", "gzip"),
        ("br;q=0, gzip;q=0", "identity"),
        ("*", "br"),
        ("*;q=0, identity", "identity"),
        ("gzip;q=0.2, identity;q=1", "identity"),
        ("deflate", "identity"),
        ("br;q=junk, gzip", "gzip"),
    ],
)
def test_the_best_accepted_coding_is_chosen(header, coding):
    assert accepted_coding(header) == coding


@pytest.mark.parametrize("path", PUBLIC_PATHS)
def test_compressed_answers_carry_their_coding_length_vary_and_own_etag(client, page, incident, frozen, path):
    path = path.format(code=incident.code)
    raw = client.get(path)
    assert "Content-Encoding" not in raw
    assert raw["Vary"] == "Accept-Encoding"
    assert int(raw["Content-Length"]) == len(raw.content)
    etags = {raw["ETag"]}
    for header, coding, decode in (("gzip", "gzip", gzip.decompress), ("gzip, deflate, br", "br", brotli.decompress)):
        for _ in range(2):  # the render, then the stored bytes
            response = client.get(path, headers={"accept-encoding": header})
            assert response["Content-Encoding"] == coding
            assert response["Vary"] == "Accept-Encoding"
            assert int(response["Content-Length"]) == len(response.content) < len(raw.content)
            assert decode(response.content) == raw.content
            assert response["Content-Type"] == raw["Content-Type"]
        etags.add(response["ETag"])
    assert len(etags) == 3  # a strong ETag per representation


def test_a_client_holding_the_gzip_representation_gets_a_304_naming_it(client, page, frozen):
    held = client.get("/", headers={"accept-encoding": "gzip"})["ETag"]
    again = client.get("/", headers={"accept-encoding": "gzip, br", "if-none-match": f'"other", W/{held}'})
    assert again.status_code == 304
    assert again["ETag"] == held
    assert client.get("/", headers={"if-none-match": '"other"'}).status_code == 200


def test_a_304_needs_no_render_even_without_stored_bytes(client, page, make_component, django_assert_num_queries):
    with time_machine.travel(timezone.now(), tick=False):
        etag = client.get("/")["ETag"]
        clear_cache()
        store.local.clear()
        client.get("/incidents/aaaaaaaaaaaa")  # puts the page's version back in the cache
        with django_assert_num_queries(0):
            assert client.get("/", headers={"if-none-match": etag}).status_code == 304


def test_a_logo_is_served_as_it_is(client, page):
    from incidents import page_services

    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 600
    page_services.page_set_logo(page=page, data=png)
    for _ in range(2):
        response = client.get("/logo", headers={"accept-encoding": "gzip, br"})
        assert response.content == png
        assert "Content-Encoding" not in response


# -- what is stored, and for how long -----------------------------------------------------------------------------


def test_each_address_has_its_own_etag(client, page):
    assert client.get("/")["ETag"] != client.get("/history")["ETag"]


def stored_keys() -> set[str]:
    """Every key in the cache (of this test's prefix, with Redis)."""
    if hasattr(cache, "iter_keys"):
        return set(cache.iter_keys("*"))
    return set(cache._cache)


def test_unknown_addresses_are_not_cached(client, page, frozen):
    client.get("/")
    before = stored_keys()
    response = client.get("/incidents/aaaaaaaaaaaa")
    assert response.status_code == 404
    assert not response.has_header("ETag")
    assert stored_keys() == before


def test_pages_are_stored_in_redis_for_about_two_minutes(client, page, make_component, redis_cache):
    api = make_component("API")
    first = client.get("/", headers={"accept-encoding": "br"})
    keys = list(redis_cache.iter_keys("public:entry:*"))
    assert len(keys) == 2  # Brotli and raw; gzip is compressed from the raw bytes when first asked for
    client.get("/", headers={"accept-encoding": "gzip"})
    keys = list(redis_cache.iter_keys("public:entry:*"))
    assert len(keys) == 3
    assert all(60 < redis_cache.ttl(key) <= 120 for key in keys)
    services.component_set_status(component=api, status=S.PARTIAL_OUTAGE)
    second = client.get("/")
    assert second["ETag"] != first["ETag"]
    assert "Partial Outage" in second.content.decode()
    assert client.get("/", headers={"if-none-match": second["ETag"]}).status_code == 304


def test_unknown_query_parameters_share_one_cache_entry(client, page, make_component, frozen):
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


@pytest.mark.parametrize("query", ["q=outage", "q=x%20%20y", "page=21", "page=99999999999999999999"])
def test_searches_and_deep_history_pages_are_not_stored(client, page, frozen, query):
    client.get("/history")
    before = stored_keys()
    for _ in range(3):
        response = client.get(f"/history?{query}", headers={"accept-encoding": "gzip"})
        assert response.status_code == 200
        assert response["Content-Encoding"] == "gzip"
    assert stored_keys() == before


@pytest.mark.parametrize(
    "path", ["/history/page/999", "/history/page/0002", "/history/page/1", "/history/page/123456789012"]
)
def test_history_pages_by_path_exist_only_for_real_pages_and_store_nothing_else(client, page, frozen, path):
    for n in range(45):  # three history pages
        services.incident_create(page=page, name=f"Incident {n}", body="a", display_at=timezone.now())
    assert client.get("/history/page/2").status_code == 200
    before = stored_keys()
    assert client.get(path).status_code == 404
    assert stored_keys() == before


def test_uncached_renders_are_bounded(client, page, monkeypatch):
    monkeypatch.setattr(budget, "uncached", budget.TokenBucket(rate=0.001, burst=2))
    assert [client.get(f"/history?q=term{n}").status_code for n in range(4)] == [200, 200, 429, 429]
    refused = client.get("/history?q=more")
    assert refused["Retry-After"] == "1"
    assert client.get("/history").status_code == 200  # the stored pages are not affected


# -- the middleware that public requests skip ------------------------------------------------------------------


def test_public_requests_skip_sessions_csrf_and_auth_but_keep_the_security_headers(client, page):
    response = client.get("/")
    assert not hasattr(response.wsgi_request, "session")
    assert not hasattr(response.wsgi_request, "user")
    assert not response.cookies
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_public_requests_still_check_the_host(client, page):
    assert client.get("/", headers={"host": "evil.example"}).status_code == 400


def test_the_admin_keeps_sessions_and_csrf(page, admin_user):
    browser = Client(enforce_csrf_checks=True)
    login = browser.get("/admin/login/")
    assert "csrfmiddlewaretoken" in login.content.decode()
    assert "csrftoken" in login.cookies
    refused = browser.post("/admin/login/", {"username": "admin", "password": "password"})
    assert refused.status_code == 403
    token = login.cookies["csrftoken"].value
    accepted = browser.post(
        "/admin/login/?next=/admin/", {"username": "admin", "password": "password", "csrfmiddlewaretoken": token}
    )
    assert accepted.status_code == 302
    assert browser.get("/admin/").status_code == 200
    assert browser.get("/").status_code == 200  # a logged-in visitor gets the same public page


def test_the_subscribe_form_still_posts(page):
    from notifications.models import Subscriber

    response = Client(enforce_csrf_checks=True).post("/subscribe", {"email": "ann@example.com"})
    assert response.status_code == 200
    assert Subscriber.objects.filter(email="ann@example.com").exists()


def test_api_and_feed_hits_keep_their_own_headers(client, page, incident, django_assert_num_queries, frozen):
    for path, content_type in (("/api/v2/summary.json", "application/json"), ("/history.atom", "application/atom+xml")):
        client.get(path)
        with django_assert_num_queries(0):
            hit = client.get(path, headers={"accept-encoding": "br"})
        assert hit["Content-Type"].startswith(content_type)
        assert hit["Content-Encoding"] == "br"
        assert not hasattr(hit.wsgi_request, "session")  # served by PublicPathMiddleware
    api = client.get("/api/v2/summary.json")
    assert api["Access-Control-Allow-Origin"] == "*"
    assert client.options("/api/v2/summary.json")["Access-Control-Allow-Origin"] == "*"


def test_a_head_request_gets_the_headers_of_a_get(client, page, frozen):
    get = client.get("/", headers={"accept-encoding": "gzip"})
    head = client.head("/", headers={"accept-encoding": "gzip"})
    assert head.status_code == 200
    assert head.content == b""
    assert head["ETag"] == get["ETag"]
    assert head["Content-Length"] == get["Content-Length"]


def test_another_coding_is_compressed_from_the_stored_bytes_without_a_render(
    client, page, make_component, frozen, django_assert_num_queries
):
    make_component("API")
    raw = client.get("/", headers={"accept-encoding": "identity"})
    with django_assert_num_queries(0):
        packed = client.get("/", headers={"accept-encoding": "gzip"})
    assert packed["Content-Encoding"] == "gzip"
    assert packed["ETag"] == raw["ETag"][:-1] + '-gz"'
    assert gzip.decompress(packed.content) == raw.content
