"""What frames every public page: branded error pages, the favicon, the API docs without JavaScript."""

import pytest
from bs4 import BeautifulSoup
from django.test import RequestFactory

from incidents import services
from incidents.views import server_error


def soup(response, status):
    assert response.status_code == status, response.status_code
    return BeautifulSoup(response.content, "html.parser")


def test_a_missing_address_answers_a_branded_404_with_a_link_to_the_status(client, page):
    html = soup(client.get("/no-such-thing"), 404)
    assert html.find("h1").get_text() == "Page not found"
    assert html.select_one(".brand").get_text(" ", strip=True) == "Acme Cloud Status"
    assert html.select_one("main a[href='/']").get_text() == "← Current status"
    assert html.select_one("link[rel='stylesheet']")["href"].endswith("css/status.css")


def test_a_missing_incident_of_a_second_page_links_back_to_that_page(client, page):
    other = services.page_create(name="Beta Mail", time_zone="UTC")
    html = soup(client.get(f"/p/{other.code}/incidents/nothere"), 404)
    assert html.select_one(".brand").get_text(" ", strip=True) == "Beta Mail Status"
    assert html.select_one(f"main a[href='/p/{other.code}/']") is not None


def test_the_500_page_is_branded_links_home_and_needs_no_database():
    # No `db` fixture: any query here would raise.
    response = server_error(RequestFactory().get("/"))
    html = soup(response, 500)
    assert html.find("h1").get_text() == "Something went wrong on our side"
    assert html.select_one("main a[href='/']") is not None
    assert html.select_one("link[rel='stylesheet']") is not None


def test_an_error_in_a_view_answers_the_branded_500(client, page, monkeypatch):
    import incidents.views

    def boom(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(incidents.views, "component_rows", boom)
    client.raise_request_exception = False
    html = soup(client.get("/"), 500)
    assert html.find("h1").get_text() == "Something went wrong on our side"


def test_every_page_links_a_favicon_and_favicon_ico_answers(client, page):
    html = soup(client.get("/"), 200)
    icon = html.select_one("link[rel='icon']")
    assert icon["type"] == "image/svg+xml"
    assert icon["href"].endswith("favicon.svg")
    response = client.get("/favicon.ico")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"
    assert b"<svg" in response.content


@pytest.mark.django_db
def test_the_api_docs_say_what_to_do_without_javascript(client):
    html = soup(client.get("/api/docs"), 200)
    noscript = BeautifulSoup(html.find("noscript").decode_contents(), "html.parser")
    assert noscript.select_one("a[href='/api/schema']") is not None
    assert html.select_one("#swagger-ui") is not None  # the interactive reference is still there
