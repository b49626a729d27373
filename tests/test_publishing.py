"""Static publishing: a complete, byte-identical copy of every public address of every page, kept current."""

import gzip
import json

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction

from incidents import publishing, services
from incidents.management.demo_data import BEACONLY, CHIRPDESK
from incidents.models import Incident
from incidents.publishing.run import publish_all
from incidents.publishing.target import TargetError, parse_target
from incidents.tasks import publish_page
from tests.publishing_helpers import (
    PNG,
    expected_files,
    file_serving,
    internal_links,
    published_files,
)
from tests.test_settings import load_settings


def test_the_copy_holds_every_public_address_of_both_pages_byte_for_byte(site, client):
    call_command("publish")
    files = published_files(site.root)
    for page in site.pages.values():
        expected = expected_files(page)
        assert set(expected) <= files, sorted(set(expected) - files)
        for file, url in expected.items():
            response = client.get(url)
            assert response.status_code == 200, url
            assert (site.root / file).read_bytes() == response.content, f"{file} differs from {url}"
    # the history's second page exists under its path, and only pages and their stylesheet are there
    assert "p/beaconlydemo/history/page/2/index.html" in files
    assert (site.root / "p/beaconlydemo/logo").read_bytes() == PNG
    assert "static/css/status.css" in files  # the assets the pages link to (the link check below covers all)
    # each compressible file has its gzip sibling, for nginx's gzip_static: the same bytes, compressed
    siblings = {f for f in files if f.endswith(".gz")}
    assert {"index.html.gz", "api/v2/summary.json.gz", "p/beaconlydemo/history/index.html.gz"} <= siblings
    for sibling in siblings:
        assert gzip.decompress((site.root / sibling).read_bytes()) == (site.root / sibling[:-3]).read_bytes()
    assert "p/beaconlydemo/logo.gz" not in siblings  # an image is sent as it is
    everything = set().union(*(expected_files(p) for p in site.pages.values()))
    assert {f for f in files - everything - siblings if not f.startswith("static/")} == set()


def test_every_link_in_the_published_pages_resolves_to_a_published_file(site, settings):
    call_command("publish")
    pages = [p for p in published_files(site.root) if p.endswith(".html")]
    assert len(pages) > 40
    checked = 0
    for name in pages:
        url = "/" + name.removesuffix("index.html")  # the directory's URL: relative links resolve against it
        for link in internal_links((site.root / name).read_text(), url, settings.SITE_URL):
            assert file_serving(site.root, link) is not None, f"{name} links to {link}, which is not published"
            checked += 1
    assert checked > 400


def test_history_pages_link_to_each_other_by_path(site, client):
    older = client.get(f"/p/{BEACONLY}/history")
    assert f'href="/p/{BEACONLY}/history/page/2"'.encode() in older.content
    second = client.get(f"/p/{BEACONLY}/history/page/2")
    assert second.status_code == 200
    assert second.content == client.get(f"/p/{BEACONLY}/history?page=2").content
    assert f'href="/p/{BEACONLY}/history"'.encode() in second.content
    assert b"Old incident 24<" in second.content
    assert b"Old incident 24<" not in older.content


def test_a_deleted_incident_disappears_from_the_copy(site, django_capture_on_commit_callbacks):
    call_command("publish")
    gone = Incident.objects.filter(page=site.default).order_by("id").first()
    paths = [f"incidents/{gone.code}/index.html", f"api/v2/incidents/{gone.code}.json"]
    for prefix in ("", f"p/{CHIRPDESK}/"):
        assert all((site.root / prefix / p).is_file() for p in paths)
        assert all((site.root / prefix / f"{p}.gz").is_file() for p in paths)
    with django_capture_on_commit_callbacks(execute=True):
        services.incident_delete(incident=gone)
    for prefix in ("", f"p/{CHIRPDESK}/"):
        assert not any((site.root / prefix / p).exists() for p in paths)
        assert not any((site.root / prefix / f"{p}.gz").exists() for p in paths)  # nor their gzip siblings
        assert not (site.root / prefix / "incidents" / gone.code).exists()  # no empty directory left behind
        assert gone.code not in (site.root / prefix / "api/v2/incidents.json").read_text()
        assert gone.name not in (site.root / prefix / "history/index.html").read_text()
    # the other page and the rest of this one are untouched
    assert (site.root / f"p/{BEACONLY}/index.html").is_file()
    assert len(list((site.root / "incidents").iterdir())) == Incident.objects.filter(page=site.default).count()


def test_an_incident_deleted_while_its_page_is_published_is_skipped_then_pruned(site, monkeypatch):
    """The list of incidents is read first; one deleted before its page is rendered must not fail the rest."""
    doomed = Incident.objects.filter(page=site.default).order_by("id").first()
    listed = publishing.site.page_entries

    def list_then_delete(*args, **kwargs):
        entries = listed(*args, **kwargs)
        if Incident.objects.filter(pk=doomed.pk).exists():
            services.incident_delete(incident=doomed)  # a responder deletes it meanwhile
        return entries

    monkeypatch.setattr(publishing.site, "page_entries", list_then_delete)
    call_command("publish")
    assert (site.root / "index.html").is_file()
    assert not (site.root / "incidents" / doomed.code).exists()
    monkeypatch.setattr(publishing.site, "page_entries", listed)
    call_command("publish")
    assert doomed.code not in (site.root / "api/v2/incidents.json").read_text()


def test_a_write_republishes_its_page_on_commit(site, django_capture_on_commit_callbacks):
    call_command("publish")
    incident = Incident.objects.get(page=site.other, name="Dashboard exports are slow")  # open
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        services.incident_post_update(incident=incident, body="Fix deployed; watching the queues.", status="monitoring")
    assert callbacks, "page_changed schedules the publication on commit"
    prefix = site.root / "p" / BEACONLY
    assert "Fix deployed; watching the queues." in (prefix / "incidents" / incident.code / "index.html").read_text()
    document = json.loads((prefix / "api/v2/incidents" / f"{incident.code}.json").read_text())
    assert document["incident"]["incident_updates"][0]["body"] == "Fix deployed; watching the queues."
    assert "Fix deployed" in (prefix / "history.atom").read_text()


def test_a_write_that_rolls_back_publishes_nothing(site, django_capture_on_commit_callbacks):
    call_command("publish")
    before = (site.root / "index.html").read_bytes()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        try:
            with transaction.atomic():
                services.component_create(page=site.default, name="Rolled back")
                raise RuntimeError("the write fails after its first step")
        except RuntimeError:
            pass
    assert not callbacks
    assert (site.root / "index.html").read_bytes() == before


def test_unchanged_files_are_not_written_again(site):
    first = publish_all(full=True)
    assert len(first.written) > 60
    resolved = Incident.objects.filter(page=site.other, status="resolved").first()
    path = site.root / "p" / BEACONLY / "incidents" / resolved.code / "index.html"
    inode = path.stat().st_ino
    again = publish_all(full=True)
    assert again.written == []
    assets = [p for p in first.written if p.startswith("static/")]  # compared once per run, not counted
    assert again.unchanged == first.unchanged + len(first.written) - len(assets)
    assert path.stat().st_ino == inode  # the same file, not a rewritten copy


def test_a_republish_renders_only_the_incidents_that_changed_or_still_run(site, django_capture_on_commit_callbacks):
    publish_all(full=True)
    incidents = Incident.objects.filter(page=site.other)
    closed = incidents.filter(status__in=("resolved", "postmortem", "completed")).count()
    result = publish_all()
    # Per page tree: the page-wide files, plus two files per open incident; closed incidents are skipped.
    assert result.rendered < publish_all(full=True).rendered - 2 * closed
    old = incidents.get(name="Old incident 3")
    with django_capture_on_commit_callbacks(execute=True):
        services.incident_edit(incident=old, name="Old incident three")
    assert "Old incident three" in (site.root / f"p/{BEACONLY}/incidents/{old.code}/index.html").read_text()
    assert "Old incident three" in (site.root / f"p/{BEACONLY}/api/v2/incidents/{old.code}.json").read_text()


def test_a_burst_of_writes_enqueues_one_publication_and_the_last_write_is_never_left_out(
    site, monkeypatch, django_capture_on_commit_callbacks
):
    enqueued = []
    monkeypatch.setattr(publish_page, "apply_async", lambda args, **kw: enqueued.append(args))
    component = site.default.components.first()
    with django_capture_on_commit_callbacks(execute=True):
        for n in range(10):
            services.component_set_status(
                component=component, status="degraded_performance" if n % 2 else "operational"
            )
    assert enqueued == [(site.default.pk,)]
    publish_page.run(site.default.pk)  # the task starts: the next write needs a new task
    assert json.loads((site.root / "api/v2/components.json").read_text())["components"]
    with django_capture_on_commit_callbacks(execute=True):
        services.component_set_status(component=component, status="major_outage")
    assert enqueued == [(site.default.pk,), (site.default.pk,)]
    publish_page.run(site.default.pk)
    statuses = {
        c["id"]: c["status"] for c in json.loads((site.root / "api/v2/components.json").read_text())["components"]
    }
    assert statuses[component.code] == "major_outage"


def test_publishing_is_off_without_a_target(site, settings, monkeypatch, django_capture_on_commit_callbacks):
    settings.PUBLISH_TARGET = None
    enqueued = []
    monkeypatch.setattr(publish_page, "apply_async", lambda args, **kw: enqueued.append(args))
    with django_capture_on_commit_callbacks(execute=True):
        services.component_create(page=site.default, name="Quiet")
    assert enqueued == []
    assert not site.root.exists()
    with pytest.raises(CommandError, match="PUBLISH_TARGET is not set"):
        call_command("publish")


def test_a_page_that_is_gone_leaves_no_files(site, settings):
    call_command("publish")
    other_id = site.other.pk
    site.other.delete()
    publish_page.run(other_id)
    assert not (site.root / "p" / BEACONLY).exists()
    assert (site.root / "index.html").is_file()


def test_the_enqueue_never_fails_the_write(site, monkeypatch, django_capture_on_commit_callbacks):
    def broker_down(*args, **kwargs):
        raise ConnectionError("broker down")

    monkeypatch.setattr(publish_page, "apply_async", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        component = services.component_create(page=site.default, name="Still saved")
    assert component.pk is not None
    # and the debounce flag is released, so the next write tries again
    monkeypatch.setattr(publish_page, "apply_async", lambda args, **kw: None)
    from django.core.cache import cache

    assert cache.get(publishing.pending_key(site.default.pk)) is None


@pytest.mark.parametrize(
    ("value", "scheme", "location", "prefix"),
    [
        ("file:///srv/status", "file", "/srv/status", ""),
        ("file:///srv/status/", "file", "/srv/status", ""),
        ("s3://bucket", "s3", "bucket", ""),
        ("s3://bucket/status/site/", "s3", "bucket", "status/site"),
    ],
)
def test_targets_are_read_from_their_url(value, scheme, location, prefix):
    spec = parse_target(value)
    assert (spec.scheme, spec.location, spec.prefix) == (scheme, location, prefix)


@pytest.mark.parametrize(
    "value", ["/srv/status", "ftp://host/x", "file://", "file:///", "file://host/x", "s3://", "s3:///x"]
)
def test_malformed_targets_are_refused(value):
    with pytest.raises(TargetError):
        parse_target(value)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("/srv/status", "PUBLISH_TARGET must start with file:// or s3://"),
        ("s3://", "PUBLISH_TARGET an s3:// target names its bucket"),
        ("file://relative/dir", "PUBLISH_TARGET a file:// target names a local directory"),
    ],
)
def test_a_malformed_target_stops_start_up_with_a_message_naming_it(value, message):
    result = load_settings(PUBLISH_TARGET=value)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert message in result.stderr


def test_a_well_formed_target_starts(tmp_path):
    assert load_settings(PUBLISH_TARGET=f"file://{tmp_path}/site").returncode == 0
    assert load_settings(PUBLISH_TARGET="s3://bucket/status").returncode == 0


def test_beat_republishes_every_page_each_minute_and_prunes_pages_that_are_gone(site, settings):
    from statuspage.celery import app

    schedule = settings.CELERY_BEAT_SCHEDULE["publish-all-pages"]
    assert schedule["task"] == "incidents.tasks.publish_all_pages"
    assert schedule["task"] in app.tasks
    assert schedule["schedule"] <= 60
    from incidents.tasks import publish_all_pages

    publish_all_pages.run()
    assert (site.root / f"p/{BEACONLY}/index.html").is_file()
    site.other.delete()  # a deletion that does not go through page_changed
    publish_all_pages.run()
    assert not (site.root / "p" / BEACONLY).exists()
    assert not (site.root / ".publish-state" / f"{BEACONLY}.json").exists()
    assert (site.root / f"p/{CHIRPDESK}/index.html").is_file()


def test_the_command_can_publish_elsewhere(site, tmp_path):
    call_command("publish", target=f"file://{tmp_path}/elsewhere")
    assert (tmp_path / "elsewhere/index.html").is_file()
    assert not site.root.exists()
    with pytest.raises(CommandError, match="--target must start with file:// or s3://"):
        call_command("publish", target="/no/scheme")
