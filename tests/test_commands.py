"""The management commands operators and scripts rely on (CONTRACT.md)."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from incidents.codes import CODE_RE
from incidents.models import Page


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_create_page_prints_only_the_new_id_and_the_first_is_default(db):
    first = run("create_page", "Acme Cloud", "--time-zone", "America/New_York").strip()
    second = run("create_page", "Acme Labs").strip()
    assert CODE_RE.match(first)
    assert CODE_RE.match(second)
    assert Page.objects.get(code=first).time_zone == "America/New_York"
    assert Page.objects.get(is_default=True).code == first


def test_create_page_refuses_an_unknown_time_zone(db):
    with pytest.raises(CommandError, match="Unknown time zone"):
        run("create_page", "Acme", "--time-zone", "Nowhere/Special")
    assert not Page.objects.exists()


def test_load_demo_twice_leaves_the_same_two_pages(db):
    run("load_demo")
    out = run("load_demo")
    assert Page.objects.count() == 2
    assert "Chirpdesk" in out
    assert "Beaconly" in out


def test_rebuild_uptime_replays_the_history_into_the_rollups(db):
    from incidents import services
    from incidents.models import ComponentDay

    page = services.page_create(name="Acme")
    api = services.component_create(page=page, name="API")
    services.component_set_status(component=api, status="major_outage")
    services.component_set_status(component=api, status="operational")
    before = list(ComponentDay.objects.values_list("day", "major"))
    ComponentDay.objects.all().delete()
    out = run("rebuild_uptime", "--page", page.code)
    assert "Rebuilt the uptime of 1 components." in out
    after = list(ComponentDay.objects.values_list("day", "major"))
    assert [day for day, _ in after] == [day for day, _ in before]
    # The replay reads times to the millisecond on SQLite: the same seconds, give or take a millisecond.
    assert [major for _, major in after] == pytest.approx([major for _, major in before], abs=0.01)
