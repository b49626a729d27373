"""/history: readable excerpts, search through names, updates and postmortems, and no 500 on any query string."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from bs4 import BeautifulSoup
from django.db import connection
from django.test.utils import CaptureQueriesContext

from incidents import services
from incidents.choices import IncidentStatus as I
from incidents.presentation import excerpt
from incidents.search import MAX_QUERY_LENGTH

NOW = datetime(2025, 6, 14, 12, 0, tzinfo=UTC)

POSTMORTEM = """## Summary

On June 6 a storage failover stalled the queue consumers for three hours.

## Impact

| Area | Impact |
|------|--------|
| Push campaigns | Delayed by up to one hour |
| Public APIs | About 15% of calls failed |

## Timeline

```
18:02 failover starts
```

- Rate limits were set too low
- Retries duplicated messages
"""


def soup(response):
    assert response.status_code == 200, response.status_code
    return BeautifulSoup(response.content, "html.parser")


def titles(html) -> list[str]:
    return [a.get_text(strip=True) for a in html.select(".history-list a.incident-title")]


@pytest.fixture
def past(page):
    """Three resolved incidents; the first has a published postmortem and an unpublished draft elsewhere."""
    with time_machine.travel(NOW - timedelta(days=8), tick=False):
        queue = services.incident_create(
            page=page, name="Queue delays", body="Consumers are **stalled** on the eu cluster.",
            display_at=NOW - timedelta(days=8, hours=2),
        )  # fmt: skip
        services.incident_post_update(incident=queue, body="All caught up.", status=I.RESOLVED)
        login = services.incident_create(page=page, name="Login errors", body="Single sign-on answers 502.")
        services.incident_post_update(incident=login, body="Fixed.", status=I.RESOLVED)
        exports = services.incident_create(page=page, name="Slow exports", body="Exports take minutes.")
        services.incident_post_update(incident=exports, body="Back to normal.", status=I.RESOLVED)
    with time_machine.travel(NOW - timedelta(days=1), tick=False):
        services.incident_postmortem_publish(incident=queue, body=POSTMORTEM)
        services.incident_postmortem_save(incident=exports, body="Draft: the zanzibar disk filled up.")
    return {"queue": queue, "login": login, "exports": exports}


# -- excerpts ------------------------------------------------------------------------------------------------


def test_the_excerpt_is_the_prose_without_headings_tables_or_code():
    text = excerpt(POSTMORTEM)
    assert text.startswith("On June 6 a storage failover stalled the queue consumers for three hours.")
    for noise in ("Summary", "Impact", "|", "Push campaigns", "18:02", "##", "```"):
        assert noise not in text


def test_the_excerpt_keeps_lists_and_paragraphs_apart_and_is_bounded():
    assert excerpt("Looking into it.\nMore soon") == "Looking into it. More soon"
    assert excerpt("# Title\n\n- first thing\n- second thing") == "first thing; second thing"
    assert excerpt("One paragraph\n\nAnother one") == "One paragraph. Another one"
    long = excerpt(" ".join(f"word{n}" for n in range(100)), words=30)
    assert long.split()[:30] == [f"word{n}" for n in range(29)] + ["word29…"]
    assert excerpt("| a | b |\n|---|---|\n| 1 | 2 |") == ""
    assert excerpt("") == ""


def test_the_excerpt_is_plain_text_never_markup():
    text = excerpt("Fixed <script>alert(1)</script> &amp; [the link](https://example.com) `code` &lt;b&gt;")
    assert "<script" not in text
    assert "alert" not in text
    assert text == "Fixed & the link code <b>"


def test_the_history_shows_the_postmortem_as_readable_text(client, page, past):
    with time_machine.travel(NOW, tick=False):
        html = soup(client.get("/history"))
    item = next(li for li in html.select(".history-list li") if "Queue delays" in li.get_text())
    shown = item.select_one(".excerpt").get_text(" ", strip=True)
    assert shown.startswith("On June 6 a storage failover stalled")
    assert "Summary" not in shown
    assert "Push campaigns" not in shown


def test_an_update_without_prose_shows_the_one_before(client, page):
    with time_machine.travel(NOW, tick=False):
        incident = services.incident_create(page=page, name="Regions", body="Some regions are slow.")
        services.incident_post_update(incident=incident, body="| Region | Delay |\n|---|---|\n| eu | 4 min |")
        html = soup(client.get("/history"))
    assert html.select_one(".history-list .excerpt").get_text(strip=True) == "Some regions are slow."


# -- search --------------------------------------------------------------------------------------------------


def search(client, query):
    with time_machine.travel(NOW, tick=False):
        return titles(soup(client.get("/history", {"q": query})))


def test_search_finds_names_update_bodies_and_published_postmortems(client, page, past):
    assert search(client, "login") == ["Login errors"]
    assert search(client, "single SIGN-ON") == ["Login errors"]
    assert search(client, "stalled") == ["Queue delays"]
    assert search(client, "storage failover") == ["Queue delays"]  # the postmortem
    assert search(client, "failover exports") == []  # every word must match
    assert search(client, "zanzibar") == []  # a draft is not public


def test_search_matches_each_incident_once(client, page, past):
    # "e" is in the name and in every update: one row per incident all the same.
    assert sorted(search(client, "e")) == ["Login errors", "Queue delays", "Slow exports"]


def test_a_too_long_query_is_refused_with_a_clear_message(client, page, past):
    with time_machine.travel(NOW, tick=False):
        response = client.get("/history", {"q": "x" * (MAX_QUERY_LENGTH + 1)})
    assert response.status_code == 400
    html = BeautifulSoup(response.content, "html.parser")
    assert f"at most {MAX_QUERY_LENGTH} characters" in html.select_one(".form-error").get_text()
    assert html.select_one("input#q") is not None  # the form is still there to try again
    assert client.get("/history", {"q": "x" * MAX_QUERY_LENGTH}).status_code == 200


def test_too_many_words_are_refused(client, page, past):
    response = client.get("/history", {"q": " ".join("ab" for _ in range(20))})
    assert response.status_code == 400
    assert b"at most 8 words" in response.content


@pytest.mark.parametrize(
    "raw", ["%00", "a%00b", "login%07", "%1B%5B31m", "%ED%A0%80", "%FF%FE", "%E2%80%8B", "%09%0A", "%"]
)
def test_control_characters_in_the_query_never_give_a_500(client, page, past, raw):
    with time_machine.travel(NOW, tick=False):
        response = client.get(f"/history?q={raw}")
    assert response.status_code == 200
    html = soup(response)
    assert "\x00" not in html.select_one("input#q")["value"]


def test_control_characters_are_read_as_spaces(client, page, past):
    assert search(client, "login\x00errors") == ["Login errors"]


@pytest.mark.parametrize("number", ["abc", "0", "-1", "10" + "0" * 30, "1e3", "²", "٣", "9" * 5000, "\x00"])
def test_any_page_number_gives_a_page_never_a_500(client, page, past, number):
    with time_machine.travel(NOW, tick=False):
        response = client.get("/history", {"page": number, "q": "e"})
    assert response.status_code == 200
    assert len(titles(soup(response))) == 3


def test_a_page_number_read_as_page_one_shows_page_one(client, page):
    # The cache keys a page number the way the view reads it: any other reading would cache, say, the last
    # page under the address of the first.
    start = datetime(2025, 1, 10, 9, 0, tzinfo=UTC)
    with time_machine.travel(NOW, tick=False):
        for n in range(25):
            services.incident_create(
                page=page, name=f"Incident {n}", body="Broke.", status=I.RESOLVED, display_at=start + timedelta(days=n)
            )
        for number in ("-1", "0", "٣", "00", "01"):
            assert titles(soup(client.get("/history", {"page": number})))[0] == "Incident 24", number
        assert titles(soup(client.get("/history")))[0] == "Incident 24"
        assert titles(soup(client.get("/history", {"page": "0002"})))[-1] == "Incident 0"
        assert titles(soup(client.get("/history", {"page": "10" + "0" * 30})))[-1] == "Incident 0"


def test_a_search_costs_a_constant_number_of_queries(client, page, past):
    def count(query):
        with CaptureQueriesContext(connection) as ctx, time_machine.travel(NOW, tick=False):
            assert client.get("/history", {"q": query}).status_code == 200
        return len(ctx.captured_queries)

    one = count("stalled")
    many = count("e a o u i")
    assert one == many <= 6


# -- the index on PostgreSQL ---------------------------------------------------------------------------------


def test_the_search_uses_the_trigram_index_on_postgresql(postgres, page, past):
    from incidents.models import Incident
    from incidents.search import search_incidents

    queryset = search_incidents(Incident.objects.filter(page=page), "failover")
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    # The updates' bodies (the bulk of the text) through the trigram index; the names are read from the
    # page's own incidents only.
    assert "Bitmap Index Scan on incident_update_body_trgm" in plan, plan
    assert "incident_page_started" in plan, plan
    assert [i.name for i in queryset] == ["Queue delays"]


def test_nul_in_the_query_is_harmless_on_postgresql(postgres, client, page, past):
    assert search(client, "login\x00") == ["Login errors"]


@pytest.mark.parametrize(
    "path", ["/", "/uptime", "/history.atom", "/history.rss", "/maintenance.ics", "/api/v2/summary.json", "/badge.svg"]
)
def test_bad_query_strings_on_the_other_public_pages_never_give_a_500(client, page, past, make_component, path):
    make_component("API")
    for raw in ("q=%00", "page=%C2%B2", "page=" + "9" * 5000, "q=" + "x" * 5000, "page=abc&q=%1B", "%FF=%FF"):
        response = client.get(f"{path}?{raw}")
        assert response.status_code < 500, (path, raw[:20], response.status_code)
