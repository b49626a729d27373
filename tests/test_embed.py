"""The status on other sites: /widget.js and the frameable /embed (the widget in Chromium: test_embed_browser.py)."""

from bs4 import BeautifulSoup
from django.contrib.staticfiles import finders

from incidents import access_services, services
from incidents.choices import ComponentStatus as S


def test_the_widget_is_served_at_every_pages_root_as_our_static_file(client, page):
    with open(finders.find("js/widget.js"), "rb") as source:
        script = source.read()
    assert len(script) < 8 * 1024  # a few KB, no dependency
    for url in ("/widget.js", f"/p/{page.code}/widget.js"):
        response = client.get(url)
        assert response.status_code == 200
        assert response["Content-Type"] == "application/javascript; charset=utf-8"
        assert response.content == script
        assert response["ETag"]
        assert client.get(url, HTTP_IF_NONE_MATCH=response["ETag"]).status_code == 304
    assert b"innerHTML" not in script  # every text goes in as textContent


def test_the_embed_shows_the_status_line_and_the_open_incidents(client, page, make_component):
    api = make_component("API")
    incident = services.incident_create(page=page, name="API slow", body="Looking.", components={api: S.PARTIAL_OUTAGE})
    html = BeautifulSoup(client.get("/embed").content, "html.parser")
    assert html.select_one(".embed-status").get_text(strip=True) == "Partial System Outage"
    assert "indicator-major" in html.select_one(".embed-status")["class"]
    link = html.select_one(".embed-open a")
    assert (link.get_text(), link["href"], link["target"]) == ("API slow", f"/incidents/{incident.code}", "_blank")
    services.incident_post_update(incident=incident, status="resolved", body="Fine.", components={api: S.OPERATIONAL})
    html = BeautifulSoup(client.get(f"/p/{page.code}/embed").content, "html.parser")
    assert html.select_one(".embed-status").get_text(strip=True) == "All Systems Operational"
    assert html.select_one(".embed-open") is None


def test_any_site_may_frame_the_embed_and_no_other_page(client, page):
    for url in ("/embed", f"/p/{page.code}/embed"):
        response = client.get(url)
        assert response.status_code == 200
        assert "X-Frame-Options" not in response
        assert "frame-ancestors *" in response["Content-Security-Policy"]
        assert "script-src 'self'" in response["Content-Security-Policy"]  # the rest of the policy stays
        held = client.get(url, HTTP_IF_NONE_MATCH=response["ETag"])
        assert held.status_code == 304
        assert "X-Frame-Options" not in held
    for url in ("/", "/history", "/widget.js", "/badge.svg"):
        response = client.get(url)
        assert response["X-Frame-Options"] == "DENY", url
        assert "frame-ancestors 'none'" in response["Content-Security-Policy"], url


def test_a_private_pages_embed_asks_for_access_and_only_this_site_may_frame_it(client, page, page_admin):
    access_services.page_set_access(page=page, visibility="private")
    response = client.get("/embed")
    assert response.status_code == 401
    assert response["X-Frame-Options"] == "DENY"
    client.force_login(page_admin)  # a member: the admin's preview
    response = client.get("/embed")
    assert response.status_code == 200
    assert response["X-Frame-Options"] == "SAMEORIGIN"
    assert "frame-ancestors 'self'" in response["Content-Security-Policy"]
