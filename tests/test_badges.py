"""Status and uptime badges: SVG (light, dark) and shields.io endpoint JSON, for the page and each component."""

import re
import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import time_machine
from bs4 import BeautifulSoup
from django.conf import settings

from incidents import badges, services
from incidents.choices import COLOUR_HEX
from incidents.choices import ComponentStatus as S

SVG = "{http://www.w3.org/2000/svg}"
NOW = datetime(2025, 6, 12, 12, 0, tzinfo=UTC)


def read_svg(response) -> dict:
    """The badge as a visitor's image viewer reads it: its texts, its fills, its size."""
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"] == "image/svg+xml"
    root = ET.fromstring(response.content)
    rects = root.findall(f"{SVG}g/{SVG}rect")
    texts = root.findall(f"{SVG}g/{SVG}text")
    return {
        "texts": [t.text for t in texts],
        "label_fill": rects[0].get("fill"),
        "message_fill": rects[1].get("fill"),
        "width": int(root.get("width")),
        "title": root.find(f"{SVG}title").text,
    }


def read_json(response) -> dict:
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"] == "application/json"
    return response.json()


def test_the_badge_colours_are_the_status_pages_own():
    css = (Path(settings.BASE_DIR) / "static/css/status.css").read_text()
    for name, hex_value in COLOUR_HEX.items():
        assert re.search(rf"--{name}:\s*{hex_value};", css), name


@pytest.mark.parametrize(
    ("status", "message", "colour"),
    [
        (S.OPERATIONAL, "Operational", "green"),
        (S.DEGRADED_PERFORMANCE, "Degraded Performance", "yellow"),
        (S.PARTIAL_OUTAGE, "Partial Outage", "orange"),
        (S.MAJOR_OUTAGE, "Major Outage", "red"),
        (S.UNDER_MAINTENANCE, "Under Maintenance", "blue"),
    ],
)
def test_a_component_badge_says_its_status_in_its_colour(client, page, make_component, status, message, colour):
    api = make_component("API")
    if status != S.OPERATIONAL:
        services.component_set_status(component=api, status=status)
    drawn = read_svg(client.get(f"/components/{api.code}/badge.svg"))
    assert drawn["texts"] == ["API", message]
    assert drawn["title"] == f"API: {message}"
    assert drawn["message_fill"] == COLOUR_HEX[colour]
    endpoint = read_json(client.get(f"/components/{api.code}/badge.json"))
    assert endpoint == {"schemaVersion": 1, "label": "API", "message": message, "color": COLOUR_HEX[colour][1:]}
    dark = read_svg(client.get(f"/components/{api.code}/badge-dark.svg"))
    assert dark["texts"] == drawn["texts"]
    assert dark["message_fill"] == badges.PALETTES[badges.DARK][colour] != drawn["message_fill"]
    assert dark["label_fill"] != drawn["label_fill"]


@pytest.mark.parametrize(
    ("statuses", "message", "colour"),
    [
        ([S.OPERATIONAL, S.OPERATIONAL], "All Systems Operational", "green"),
        ([S.DEGRADED_PERFORMANCE, S.DEGRADED_PERFORMANCE], "Degraded System Service", "yellow"),
        ([S.PARTIAL_OUTAGE, S.OPERATIONAL], "Minor Service Outage", "yellow"),
        ([S.MAJOR_OUTAGE, S.OPERATIONAL], "Partial System Outage", "orange"),
        ([S.MAJOR_OUTAGE, S.MAJOR_OUTAGE], "Major System Outage", "red"),
        ([S.UNDER_MAINTENANCE, S.OPERATIONAL], "Service Under Maintenance", "blue"),
    ],
)
def test_the_page_badge_says_what_the_status_line_says(client, page, make_component, statuses, message, colour):
    for n, status in enumerate(statuses):
        component = make_component(f"C{n}")
        if status != S.OPERATIONAL:
            services.component_set_status(component=component, status=status)
    line = BeautifulSoup(client.get("/").content, "html.parser").select_one("h1.banner-text").get_text(strip=True)
    assert line == message
    for prefix in ("/", f"/p/{page.code}/"):
        drawn = read_svg(client.get(prefix + "badge.svg"))
        assert drawn["texts"] == ["Acme Cloud", message]
        assert drawn["message_fill"] == COLOUR_HEX[colour]
        assert read_json(client.get(prefix + "badge.json"))["message"] == message


def test_an_open_incident_raises_the_page_badge(client, page, make_component):
    api = make_component("API")
    services.incident_create(page=page, name="Slow", body="Looking.", components={api: S.OPERATIONAL})
    incident = page.incidents.get()
    services.incident_edit(incident=incident, impact_override="major")
    assert read_json(client.get("/badge.json"))["message"] == "Partial System Outage"


def test_text_is_escaped_and_the_width_follows_its_length(client, page, make_component):
    odd = make_component('<b>"Fish" & Chips</b>')
    short = make_component("DB")
    drawn = read_svg(client.get(f"/components/{odd.code}/badge.svg"))  # parses: nothing unescaped
    assert drawn["texts"][0] == '<b>"Fish" & Chips</b>'
    assert b"<b>" not in client.get(f"/components/{odd.code}/badge.svg").content
    assert drawn["width"] > read_svg(client.get(f"/components/{short.code}/badge.svg"))["width"] + 100
    assert badges.text_width("mmmm") > badges.text_width("iiii")


def test_an_unknown_component_has_no_badge(client, page):
    assert client.get("/components/nosuchthing1/badge.svg").status_code == 404
    assert client.get("/components/nosuchthing1/badge.json").status_code == 404


def test_the_uptime_badge_shows_the_uptime_pages_figure(client, db):
    with time_machine.travel(NOW, tick=False):
        page = services.page_create(name="Acme")
        api = services.component_create(page=page, name="API", start_date=date(2025, 5, 1))
        services.component_create(page=page, name="Web", start_date=date(2025, 5, 1))
        incident = services.incident_create(
            page=page, name="API down", body="a", components={api: S.MAJOR_OUTAGE},
            display_at=datetime(2025, 6, 10, 10, 0, tzinfo=UTC),
        )  # fmt: skip
        services.incident_post_update(
            incident=incident, status="resolved", body="b", components={api: S.OPERATIONAL},
            display_at=datetime(2025, 6, 10, 16, 0, tzinfo=UTC),
        )  # fmt: skip
        uptime = BeautifulSoup(client.get("/uptime").content, "html.parser")
        shown = uptime.select_one(f"#t-{api.code} .muted").get_text()
        ninety = read_svg(client.get(f"/components/{api.code}/badge/uptime-90.svg"))
        thirty = read_json(client.get(f"/components/{api.code}/badge/uptime-30.json"))
        whole = read_json(client.get("/badge/uptime-90.json"))
        whole_svg = read_svg(client.get("/badge/uptime-30.svg"))
    percent = f"{(1 - 6 / (42.5 * 24)) * 100:.2f}"  # 6 hours down from 1 May to 12 June noon
    assert shown == f"{percent} % uptime"
    assert ninety["texts"] == ["API uptime 90d", f"{percent}%"]
    assert ninety["message_fill"] == COLOUR_HEX["yellow"]  # 99.41 %: under 99.9
    assert thirty["message"] == f"{(1 - 6 / (29.5 * 24)) * 100:.2f}%"  # 29 days and a half to noon
    assert whole["message"] == f"{(1 - 6 / (2 * 42.5 * 24)) * 100:.2f}%"  # both components' seconds together
    assert whole_svg["texts"][0] == "uptime 30d"


def test_a_component_without_data_yet_says_so(client, page, make_component):
    future = make_component("Soon", start_date=date(2999, 1, 1))
    drawn = read_svg(client.get(f"/components/{future.code}/badge/uptime-30.svg"))
    assert drawn["texts"][1] == "no data"
    assert drawn["message_fill"] == badges.PALETTES[badges.LIGHT][badges.GREY]


def test_badges_are_cached_etagged_and_compressed_like_every_public_response(client, page, make_component):
    api = make_component("API")
    for url in ("/badge.svg", f"/p/{page.code}/components/{api.code}/badge.svg", "/badge/uptime-90.json"):
        first = client.get(url, HTTP_ACCEPT_ENCODING="gzip")
        assert first.status_code == 200
        assert first["ETag"]
        assert "must-revalidate" in first["Cache-Control"]
        if url.endswith(".svg"):
            assert first["Content-Encoding"] == "gzip"
        assert client.get(url, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304
    before = client.get("/badge.svg")["ETag"]
    services.component_set_status(component=api, status=S.MAJOR_OUTAGE)
    after = client.get("/badge.svg")
    assert after["ETag"] != before
    assert read_svg(after)["texts"][1] == "Major System Outage"


def test_a_private_pages_badges_ask_for_access(client, page, make_component):
    from incidents import access_services

    api = make_component("API")
    access_services.page_set_access(page=page, visibility="private")
    assert client.get("/badge.svg").status_code == 401
    assert client.get(f"/components/{api.code}/badge.json").status_code == 401


def test_publish_writes_every_badge_and_a_republish_redraws_only_the_components_that_changed(
    site, django_capture_on_commit_callbacks, monkeypatch
):
    from incidents.models import Component
    from incidents.publishing import site as published
    from incidents.publishing.run import publish_all

    publish_all(full=True)
    api, other = Component.objects.filter(page=site.other, status=S.OPERATIONAL)[:2]
    tree = site.root / f"p/{site.other.code}"
    assert (tree / f"components/{api.code}/badge.svg").read_text().startswith("<svg")
    assert (tree / f"components/{api.code}/badge/uptime-90.json").is_file()
    assert (site.root / "badge.json").is_file()
    assert (site.root / "badge/uptime-30.svg").is_file()
    with django_capture_on_commit_callbacks(execute=True):
        services.component_set_status(component=api, status=S.MAJOR_OUTAGE)
    assert "Major Outage" in (tree / f"components/{api.code}/badge.svg").read_text()
    rendered, render = [], published.Renderer.get
    monkeypatch.setattr(published.Renderer, "get", lambda self, url: rendered.append(url) or render(self, url))
    publish_all()
    assert f"/p/{site.other.code}/components/{api.code}/badge/uptime-30.json" in rendered  # falls while it lasts
    assert not any(other.code in url for url in rendered)  # unchanged: its files already hold its badges
