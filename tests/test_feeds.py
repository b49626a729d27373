"""/history.atom and /history.rss: valid feeds of the incident history, every update newest first."""

from datetime import UTC, datetime
from xml.etree import ElementTree

import feedparser
import pytest
import time_machine

from incidents import services
from incidents.choices import IncidentStatus as I


@pytest.fixture
def history(page):
    with time_machine.travel(datetime(2024, 10, 3, 4, 0, tzinfo=UTC)):
        incident = services.incident_create(
            page=page, name="Queue backlog", body="Messages wait in the queue.",
            display_at=datetime(2024, 10, 3, 3, 5, tzinfo=UTC),
        )  # fmt: skip
        services.incident_post_update(
            incident=incident, body="Still *draining*.", display_at=datetime(2024, 10, 3, 3, 20, tzinfo=UTC)
        )
        services.incident_post_update(
            incident=incident, body="All clear. <script>alert(1)</script>", status=I.RESOLVED,
            display_at=datetime(2024, 10, 3, 3, 47, tzinfo=UTC),
        )  # fmt: skip
    services.incident_create(page=page, name="Open one", body="Looking.")
    return incident


def parse(client, path):
    response = client.get(path)
    assert response.status_code == 200
    feed = feedparser.parse(
        response.content, response_headers={"content-type": response["Content-Type"]}, sanitize_html=False
    )
    assert not feed.bozo, feed.get("bozo_exception")
    return response, feed


def test_the_atom_feed_is_valid_and_follows_statuspage(client, page, history, settings):
    response, feed = parse(client, "/history.atom")
    assert response["Content-Type"].startswith("application/atom+xml")
    assert feed.version == "atom10"
    host = settings.SITE_URL.split("://")[1]
    assert feed.feed.title == "Acme Cloud Status - Incident History"
    assert feed.feed.id == f"tag:{host},2005:/history"
    assert {link.rel for link in feed.feed.links} == {"alternate", "self"}
    assert feed.feed.author == "Acme Cloud"
    assert b'<feed xml:lang="en-US"' in response.content
    entries = {e.title: e for e in feed.entries}
    entry = entries["Queue backlog"]
    assert entry.id == f"tag:{host},2005:Incident/{history.code}"
    assert len({e.id for e in feed.entries}) == 2
    assert entry.link == settings.SITE_URL + f"/incidents/{history.code}"
    assert entry.published_parsed[:5] == (2024, 10, 3, 3, 5)
    assert entry.updated_parsed[:5] == (2024, 10, 3, 3, 47)
    assert entry.content[0].type == "text/html"
    atom = "{http://www.w3.org/2005/Atom}"
    html = next(
        e.find(f"{atom}content").text for e in ElementTree.fromstring(response.content).iter(f"{atom}entry")
        if e.find(f"{atom}title").text == "Queue backlog"
    )  # fmt: skip
    assert html.startswith(
        "<p><small>Oct <var data-var='date'> 3</var>, <var data-var='time'>03:47</var> UTC</small><br>"
        "<strong>Resolved</strong> - All clear."
    )
    assert html.index("Resolved") < html.index("Update") < html.index("Investigating")
    assert "<em>draining</em>" in html
    assert "<script" not in html


def test_the_rss_feed_is_valid_with_guid_equal_to_link(client, page, history):
    response, feed = parse(client, "/history.rss")
    assert response["Content-Type"].startswith("application/rss+xml")
    assert feed.version == "rss20"
    entry = next(e for e in feed.entries if e.title == "Queue backlog")
    assert entry.id == entry.link
    assert entry.link.endswith(f"/incidents/{history.code}")
    assert entry.published_parsed[:5] == (2024, 10, 3, 3, 5)
    assert "<strong>Resolved</strong> - All clear." in entry.description
    assert "<strong>Update</strong> - Still <em>draining</em>." in entry.description


def test_every_page_has_its_feeds_in_its_own_time_zone(client, page, other_page):
    with time_machine.travel(datetime(2024, 7, 1, 12, 0, tzinfo=UTC)):
        services.incident_create(
            page=other_page, name="Paris down", body="x", display_at=datetime(2024, 7, 1, 9, 30, tzinfo=UTC)
        )
    _, feed = parse(client, f"/p/{other_page.code}/history.atom")
    assert [e.title for e in feed.entries] == ["Paris down"]
    assert '<var data-var="time">11:30</var> CEST' in feed.entries[0].content[0].value
    assert feed.feed.links[1].href.endswith(f"/p/{other_page.code}/history.atom")
    _, rss = parse(client, f"/p/{other_page.code}/history.rss")
    assert [e.title for e in rss.entries] == ["Paris down"]


def test_feeds_are_cached_by_page_version(client, page, history):
    first = client.get("/history.atom")
    assert client.get("/history.atom", headers={"if-none-match": first["ETag"]}).status_code == 304
    services.incident_create(page=page, name="Fresh", body="x")
    again = client.get("/history.atom", headers={"if-none-match": first["ETag"]})
    assert again.status_code == 200
    assert b"Fresh" in again.content


def test_the_public_footer_links_to_the_feeds_and_the_api(client, page, other_page):
    html = client.get("/").content.decode()
    assert 'href="/history.atom"' in html
    assert 'href="/history.rss"' in html
    assert 'href="/api/v2/summary.json"' in html
    assert f'href="/p/{other_page.code}/history.rss"' in client.get(f"/p/{other_page.code}/").content.decode()


def entry_named(feed, title):
    return next(e for e in feed.entries if e.title == title)


def test_publishing_a_postmortem_moves_the_entrys_updated_time(client, page, history):
    with time_machine.travel(datetime(2024, 10, 10, 9, 30, tzinfo=UTC), tick=False):
        services.incident_postmortem_publish(incident=history, body="## What happened\n\nA disk filled up.")
        _, feed = parse(client, "/history.atom")
    entry = entry_named(feed, "Queue backlog")
    assert entry.published_parsed[:5] == (2024, 10, 3, 3, 5)
    assert entry.updated_parsed[:5] == (2024, 10, 10, 9, 30)
    assert feed.feed.updated_parsed[:5] >= (2024, 10, 10, 9, 30)


def test_an_update_to_a_resolved_incident_moves_the_entrys_updated_time(client, page, history):
    with time_machine.travel(datetime(2024, 10, 4, 8, 0, tzinfo=UTC), tick=False):
        services.incident_post_update(incident=history, body="A correction: it was the eu queue.")
        _, feed = parse(client, "/history.atom")
        _, rss = parse(client, "/history.rss")
    assert entry_named(feed, "Queue backlog").updated_parsed[:5] == (2024, 10, 4, 8, 0)
    assert "A correction" in entry_named(rss, "Queue backlog").description


def test_a_future_maintenance_is_announced_now_not_at_its_start(client, page):
    from incidents.services.maintenance import maintenance_create

    announced = datetime(2024, 10, 5, 12, 0, tzinfo=UTC)
    with time_machine.travel(announced, tick=False):
        services.incident_create(
            page=page, name="Earlier", body="x", status=I.RESOLVED, display_at=datetime(2024, 10, 3, 3, 5, tzinfo=UTC)
        )
        maintenance_create(
            page=page, name="Database upgrade", body="We upgrade the database.",
            scheduled_for=datetime(2024, 10, 20, 2, 0, tzinfo=UTC), scheduled_until=datetime(2024, 10, 20, 4, 0, tzinfo=UTC),
        )  # fmt: skip
        _, feed = parse(client, "/history.atom")
        _, rss = parse(client, "/history.rss")
    entry = entry_named(feed, "Database upgrade")
    assert entry.published_parsed[:5] == (2024, 10, 5, 12, 0)
    assert entry.updated_parsed[:5] == (2024, 10, 5, 12, 0)
    assert feed.feed.updated_parsed[:5] == (2024, 10, 5, 12, 0)
    assert entry_named(rss, "Database upgrade").published_parsed[:5] == (2024, 10, 5, 12, 0)
    assert rss.feed.updated_parsed[:5] == (2024, 10, 5, 12, 0)  # lastBuildDate
