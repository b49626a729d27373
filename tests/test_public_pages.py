"""The public site as visitors read it, on the seed-shaped demo pages."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from bs4 import BeautifulSoup

from incidents import services
from incidents.choices import IncidentStatus as I
from incidents.management.demo_data import BEACONLY, CHIRPDESK, load_demo
from incidents.models import Incident, Page

NOW = datetime(2025, 6, 14, 12, 0, tzinfo=UTC)


@pytest.fixture
def demo(db):
    with time_machine.travel(NOW, tick=False):
        load_demo()
        yield {p.code: p for p in Page.objects.all()}


def soup(response):
    assert response.status_code == 200, response.status_code
    return BeautifulSoup(response.content, "html.parser")


def text(node) -> str:
    return " ".join(node.get_text(" ").split())


def incident_named(page_code, name):
    return Incident.objects.get(page__code=page_code, name=name)


def test_the_minor_incident_reads_like_the_seed(client, demo):
    incident = incident_named(CHIRPDESK, "WhatsApp replies delayed")
    html = soup(client.get(f"/incidents/{incident.code}"))
    assert text(html.select_one(".incident-header")).startswith(
        "WhatsApp replies delayed Incident Report for Chirpdesk"
    )
    assert text(html.select_one(".summary")) == (
        "Chirpdesk experienced a minor incident on June 6, 2025 affecting Channel - WhatsApp, lasting 3h 20m."
    )
    labels = [text(h) for h in html.select(".timeline .update-label")]
    assert labels == [
        "Postmortem", "Resolved", "Monitoring", "Update", "Update", "Identified",
        "Update", "Update", "Update", "Investigating",
    ]  # fmt: skip
    posted = [text(p) for p in html.select(".timeline .posted")]
    assert posted[-1] == "Posted Jun 6, 2025 - 17:41 UTC"
    assert posted[1] == "Posted Jun 6, 2025 - 21:01 UTC"
    assert text(html.select_one(".affected")) == "This incident affected: Channels (Channel - WhatsApp)."


def test_the_postmortem_markdown_is_rendered(client, demo):
    incident = incident_named(CHIRPDESK, "WhatsApp replies delayed")
    html = soup(client.get(f"/incidents/{incident.code}"))
    postmortem = html.select_one(".timeline .update .md")
    assert [text(h) for h in postmortem.find_all("h2")][:2] == ["Summary", "Root cause"]
    assert postmortem.find("strong") is not None
    assert len(postmortem.select("ul li")) >= 5


def test_the_major_incident_lists_its_groups_in_the_affected_line(client, demo):
    incident = incident_named(BEACONLY, "Notifications, API and SDK services unavailable")
    html = soup(client.get(f"/p/{BEACONLY}/incidents/{incident.code}"))
    assert text(html.select_one(".affected")) == (
        "This incident affected: API (Transactional API, Campaigns API, Custom Audience API), Webservices (SDK), "
        "and Delivery (Push campaigns, Transactional push, Email & SMS)."
    )
    labels = [text(h) for h in html.select(".timeline .update-label")]
    assert labels == [
        "Postmortem", "Resolved", "Update", "Monitoring", "Update", "Update", "Update", "Update", "Update",
        "Identified", "Investigating",
    ]  # fmt: skip
    assert text(html.select_one(".summary")) == (
        "Beaconly experienced a major incident on June 2, 2025 affecting API, SDK, and Delivery, lasting 20h 17m."
    )
    # Europe/Paris in early summer: CEST, and the postmortem's table survives.
    assert text(html.select(".timeline .posted")[-1]) == "Posted Jun 2, 2025 - 19:09 CEST"
    assert html.select_one(".timeline .md table") is not None


def test_home_page_shows_the_banner_components_and_past_incidents(client, demo):
    html = soup(client.get("/"))
    assert text(html.select_one(".banner")) == "All Systems Operational"
    names = [text(n) for n in html.select(".components .component-name")]
    assert names[0].startswith("Core platform")
    assert names[-1].startswith("Public API")
    days = html.select(".past .day")
    assert len(days) == 15
    assert text(days[0].select_one(".day-title")) == "Jun 14, 2025"
    assert text(days[0]) == "Jun 14, 2025 No incidents reported."
    june_6 = next(d for d in days if text(d.select_one(".day-title")) == "Jun 6, 2025")
    assert "WhatsApp replies delayed" in text(june_6)
    # The postmortem is linked from the list rather than printed in full.
    assert text(june_6.select_one(".past-incident p")).startswith("Postmortem - Read the postmortem")
    assert html.select_one('a[href="/history"]') is not None


def test_an_incident_of_no_impact_shows_no_impact_tag(client, page, make_component):
    services.incident_create(page=page, name="Checking a report", body="Looking.", affected=[make_component("API")])
    card = soup(client.get("/")).select_one(".incident-card")
    assert text(card.select_one(".incident-card-meta")) == "Investigating"  # not "None impact · Investigating"


def test_open_incidents_follow_the_banner(client, demo):
    html = soup(client.get(f"/p/{BEACONLY}/"))
    assert text(html.select_one(".banner")) == "Partially Degraded Service"
    card = html.select_one(".incident-card")
    assert "Dashboard exports are slow" in text(card)
    assert "Identified" in text(card.select_one(".incident-card-meta"))
    assert "Minor impact" in text(card)
    assert "undersized" in text(card.select_one(".md"))
    assert text(card.select_one(".promise")).startswith("Next update expected by")
    dashboard = [li for li in html.select(".components li.component") if "Dashboard" in text(li)][0]
    assert "Degraded Performance" in text(dashboard)


def test_an_open_incident_page_says_how_long_it_has_been_going_on(client, demo):
    incident = incident_named(BEACONLY, "Dashboard exports are slow")
    with time_machine.travel(NOW + timedelta(minutes=18), tick=False):
        html = soup(client.get(f"/p/{BEACONLY}/incidents/{incident.code}"))
    assert text(html.select_one(".summary")) == (
        "Beaconly is experiencing a minor incident affecting Dashboard, ongoing for 1h 5m."
    )


def test_components_hidden_unless_degraded_appear_when_degraded(client, page, make_component):
    quiet = make_component("Legacy sync", only_show_if_degraded=True)
    assert "Legacy sync" not in client.get("/").content.decode()
    services.component_set_status(component=quiet, status="partial_outage")
    assert "Legacy sync" in client.get("/").content.decode()


def test_history_groups_incidents_by_month_newest_first_and_paginates(client, page):
    start = datetime(2025, 1, 10, 9, 0, tzinfo=UTC)
    with time_machine.travel(datetime(2025, 6, 1, tzinfo=UTC), tick=False):
        for n in range(25):
            services.incident_create(
                page=page, name=f"Incident {n}", body="Something broke.", status=I.RESOLVED,
                display_at=start + timedelta(days=5 * n),
            )  # fmt: skip
        first = soup(client.get("/history"))
        months = [text(h) for h in first.select(".month h2")]
        assert months[0] == "May 2025"
        assert [text(a) for a in first.select(".history-list a")][0] == "Incident 24"
        assert "Page 1 of 2" in text(first.select_one(".pager"))
        second = soup(client.get("/history?page=2"))
        assert [text(a) for a in second.select(".history-list a")][-1] == "Incident 0"
        assert "January 2025" in [text(h) for h in second.select(".month h2")]
        found = soup(client.get("/history?q=Incident+7"))  # every word, anywhere: "7" is also in "17"
        assert [text(a) for a in found.select(".history-list a")] == ["Incident 17", "Incident 7"]


def test_every_page_is_served_under_its_own_address(client, demo):
    assert client.get(f"/p/{CHIRPDESK}/").status_code == 200
    assert client.get(f"/p/{BEACONLY}/history").status_code == 200
    assert client.get("/p/nosuchpage00/").status_code == 404


def test_an_incident_is_only_served_under_its_own_page(client, demo):
    incident = incident_named(BEACONLY, "Dashboard exports are slow")
    assert client.get(f"/p/{BEACONLY}/incidents/{incident.code}").status_code == 200
    assert client.get(f"/incidents/{incident.code}").status_code == 404
    assert client.get("/incidents/zzzzzzzzzzzz").status_code == 404


def test_public_pages_set_no_cookies_and_load_no_foreign_assets(client, demo):
    response = client.get("/")
    assert not response.cookies
    html = soup(response)
    for tag, attr in (("link", "href"), ("script", "src"), ("img", "src")):
        for node in html.find_all(tag):
            assert node[attr].startswith("/"), node


def test_load_demo_is_idempotent(demo):
    counts = (Page.objects.count(), Incident.objects.count())
    with time_machine.travel(NOW, tick=False):
        load_demo()
    assert (Page.objects.count(), Incident.objects.count()) == counts
    assert Page.objects.get(is_default=True).code == CHIRPDESK
