"""Every response carries the Content-Security-Policy, and no page needs what it forbids (inline script or
style); the page's accent colour comes from its own stylesheet. Server errors are emailed to the admins."""

import logging

import pytest
from bs4 import BeautifulSoup
from django.core import mail

from incidents import services
from incidents.choices import ComponentStatus as S
from incidents.page_services import page_update
from tests.notify_helpers import confirmed
from tests.test_subscribing import link_in

pytestmark = pytest.mark.django_db(transaction=True)


def policy_of(response) -> dict[str, str]:
    header = response["Content-Security-Policy"]
    return {part.split()[0]: part.strip() for part in header.split(";") if part.strip()}


def assert_nothing_inline(html: str):
    soup = BeautifulSoup(html, "html.parser")
    assert soup.find("style") is None
    assert [s for s in soup.find_all("script") if not s.get("src")] == []
    assert soup.select("[style]") == []
    assert [tag.name for tag in soup.find_all(lambda t: any(a.startswith("on") for a in t.attrs))] == []


@pytest.fixture
def incident(page, make_component):
    api = make_component("API")
    return services.incident_create(page=page, name="API down", body="Looking.", components={api: S.MAJOR_OUTAGE})


def test_the_policy_forbids_inline_code_plugins_and_framing(client, page):
    policy = policy_of(client.get("/"))
    assert policy["default-src"] == "default-src 'self'"
    assert policy["script-src"] == "script-src 'self'"
    assert policy["style-src"] == "style-src 'self'"
    assert policy["object-src"] == "object-src 'none'"
    assert policy["frame-ancestors"] == "frame-ancestors 'none'"
    assert "unsafe-inline" not in client.get("/")["Content-Security-Policy"]


def test_public_pages_carry_the_policy_on_a_cache_hit_and_a_304_too(client, page, incident):
    for path in ("/", f"/incidents/{incident.code}", "/history", "/uptime", "/api/v2/summary.json", "/history.atom"):
        first = client.get(path)
        assert first.status_code == 200, path
        assert "Content-Security-Policy" in first, path
        again = client.get(path)  # served from the public cache, before the session and auth middleware
        assert again["Content-Security-Policy"] == first["Content-Security-Policy"], path
        not_modified = client.get(path, HTTP_IF_NONE_MATCH=first["ETag"])
        assert not_modified.status_code == 304
        assert "Content-Security-Policy" in not_modified


def test_the_admin_the_api_docs_and_error_pages_carry_the_policy(client, page):
    for path, status in [("/admin/login/", 200), ("/api/docs", 200), ("/no-such-thing", 404), ("/subscribe", 405)]:
        response = client.get(path)
        assert response.status_code == status, path
        assert "script-src 'self'" in response["Content-Security-Policy"], path


def test_no_public_page_has_inline_script_or_style(client, page, incident):
    page_update(page=page, accent_colour="#aa3300")
    for path in ("/", f"/incidents/{incident.code}", "/history", "/uptime", "/subscribe", "/no-such-thing"):
        assert_nothing_inline(client.get(path).content.decode())


def test_the_subscriber_pages_and_the_api_docs_have_no_inline_script_or_style(client, page, incident):
    confirmed(page, "reader@example.com")
    services.incident_post_update(incident=incident, status="identified", body="Found it.")
    manage = link_in(mail.outbox[-1], "manage")
    html = client.get(manage).content.decode()
    assert "Your subscription" in html
    assert_nothing_inline(html)
    soup = BeautifulSoup(html, "html.parser")
    assert soup.select_one("script[src$='js/manage.js']") is not None
    assert soup.select_one("link[href$='css/manage.css']") is not None
    assert_nothing_inline(client.get("/subscriptions/manage/not-a-token").content.decode())
    docs = client.get("/api/docs").content.decode()
    assert_nothing_inline(docs)
    script = BeautifulSoup(docs, "html.parser").find_all("script")[-1]["src"]
    init = client.get(script)
    assert init["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle" in init.content.decode()


def test_the_accent_colour_is_a_stylesheet_of_the_page(client, page):
    page_update(page=page, accent_colour="#aa3300")
    other = services.page_create(name="Beta Mail", time_zone="UTC")
    page_update(page=other, accent_colour="#0a7b3e")
    link = BeautifulSoup(client.get("/").content, "html.parser").select("link[rel='stylesheet']")[-1]["href"]
    assert link == "/accent.css"
    css = client.get(link)
    assert css["Content-Type"] == "text/css; charset=utf-8"
    assert css.content.decode().strip() == ":root { --accent: #aa3300; }"
    assert "max-age=600" in css["Cache-Control"]  # a new colour shows within ten minutes
    html = client.get(f"/p/{other.code}/").content.decode()
    assert f'href="/p/{other.code}/accent.css"' in html
    assert client.get(f"/p/{other.code}/accent.css").content.decode().strip() == ":root { --accent: #0a7b3e; }"
    page_update(page=other, accent_colour="#1F5FBF")  # the default colour: status.css has it, no request more
    assert "accent.css" not in client.get(f"/p/{other.code}/").content.decode()


def test_a_server_error_is_emailed_to_the_admins_once_and_logged(client, page, settings, monkeypatch, caplog):
    import incidents.views

    settings.ADMINS = [("Ops", "ops@example.com")]

    def boom(*args, **kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(incidents.views, "component_rows", boom)
    client.raise_request_exception = False
    with caplog.at_level(logging.ERROR, logger="django.request"):
        assert client.get("/").status_code == 500
    assert [m.to for m in mail.outbox] == [["ops@example.com"]]
    assert mail.outbox[0].subject.startswith("[Status page] ERROR")
    assert "the database went away" in mail.outbox[0].body
    assert any(r.name == "django.request" and r.levelno == logging.ERROR for r in caplog.records)


def test_the_logging_keeps_the_console_and_mails_request_errors_to_the_admins():
    handlers = {name: logging.getLogger(name).handlers for name in ("", "django", "django.request")}
    assert [type(h) for h in handlers[""]].count(logging.StreamHandler) == 1  # (pytest adds its own beside it)
    assert [type(h).__name__ for h in handlers["django.request"]] == ["AdminEmailHandler"]
    assert handlers["django"] == []  # Django's default handlers would email (and print) an error twice
    assert logging.getLogger("django.request").propagate
    assert logging.getLogger("django").propagate
