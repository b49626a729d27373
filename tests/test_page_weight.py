"""The status page stays light at 100 showcased components with a realistic 90-day history: the budget of
the issue "The public site holds the surge" (bytes and elements; time is the benchmark's: bench/page.py)."""

import gzip

from bs4 import BeautifulSoup

from tests.surge_page import bar_levels, build_surge_page

MAX_RAW, MAX_GZIP, MAX_ELEMENTS = 200 * 1024, 30 * 1024, 4000


def test_the_home_page_at_100_components_stays_within_its_weight_budget(client, db):
    page, open_incident = build_surge_page()
    response = client.get("/")
    assert response.status_code == 200
    html = response.content
    soup = BeautifulSoup(html, "html.parser")
    assert len(soup.select("li.component")) == 100
    assert len(soup.select("svg.bars")) == 100
    assert open_incident.name in soup.select_one(".open-incidents").get_text()
    # The last 15 days' incidents are all listed, each with its updates.
    assert len(soup.select(".past-incident")) >= 60
    elements = len(soup.find_all(True))
    assert len(html) <= MAX_RAW, f"{len(html)} bytes"
    assert len(gzip.compress(html)) <= MAX_GZIP, f"{len(gzip.compress(html))} bytes gzipped"
    assert elements <= MAX_ELEMENTS, f"{elements} elements"


def test_every_day_with_downtime_is_spelled_out_under_its_bar(client, db):
    build_surge_page(components=10, groups=2)
    soup = BeautifulSoup(client.get("/").content, "html.parser")
    for component in soup.select("li.component"):
        days = component.select_one("details.uptime-days")
        listed = days.select("li")
        coloured = [level for level in bar_levels(component.select_one("svg.bars")) if level not in ("ok", "nodata")]
        assert len(listed) == len(coloured)  # one sentence per coloured day (each incident here lasts under a day)
        outages = [level for level in coloured if level != "degraded"]
        degraded = len(coloured) - len(outages)
        assert days.summary.get_text().startswith(f"{len(outages)} day" if outages else f"{degraded} day")
        assert all(":" in li.get_text() and "outage" in li.get_text() or "degraded" in li.get_text() for li in listed)
