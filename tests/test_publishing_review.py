"""Static publishing, from a review: it keeps publishing while the cache is down, records no stale bytes,
enqueues from a web request without retrying, and never deletes a file it did not write."""

import json
import logging
import time

import pytest
from django.core.cache import caches

from incidents import publishing, services
from incidents.management.demo_data import BEACONLY, CHIRPDESK
from incidents.models import Incident
from incidents.public_cache import state
from incidents.publishing import run
from incidents.publishing.run import Busy, publish_all
from incidents.tasks import publish_page
from tests.test_cache_outage import free_port


@pytest.fixture
def cache_down(settings):
    """The cache's Redis is a closed port: every call fails at once (and opens the breaker)."""
    settings.CACHES = {
        "default": {
            "BACKEND": "incidents.public_cache.backend.ResilientRedisCache",
            "LOCATION": f"redis://127.0.0.1:{free_port()}/1",
            "KEY_PREFIX": "publish-down",
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.1, "SOCKET_TIMEOUT": 0.1},
        }
    }
    assert type(caches["default"]).__name__ == "ResilientRedisCache"


def test_a_write_enqueues_its_publication_while_the_cache_is_down(
    site, cache_down, monkeypatch, django_capture_on_commit_callbacks
):
    enqueued = []
    monkeypatch.setattr(publish_page, "apply_async", lambda args, **kw: enqueued.append((args, kw)))
    with django_capture_on_commit_callbacks(execute=True):
        services.component_create(page=site.default, name="Written during the outage")
    with django_capture_on_commit_callbacks(execute=True):
        services.component_create(page=site.default, name="And another")
    # no debounce without a cache: each write enqueues (a lost debounce costs a publication, not the copy)
    assert [args for args, _ in enqueued] == [(site.default.pk,), (site.default.pk,)]


def test_publishing_goes_on_without_a_lock_while_the_cache_is_down(site, cache_down, caplog):
    caplog.set_level(logging.WARNING)
    result = publish_all(wait=2)  # before: the lock read the cache's failure as "held", waited, raised Busy
    assert "index.html" in result.written
    assert (site.root / "index.html").is_file()
    assert "without a lock" in caplog.text
    # the task too: no Busy, no re-enqueue, the file is written
    services.component_create(page=site.default, name="Published without a lock")
    publish_page.run(site.default.pk)
    assert "Published without a lock" in (site.root / "index.html").read_text()


def test_the_command_publishes_while_the_cache_is_down(site, cache_down):
    from django.core.management import call_command

    call_command("publish")
    assert (site.root / f"p/{BEACONLY}/index.html").is_file()


def test_a_lock_held_by_another_publisher_is_still_waited_for(site, settings):
    from django.core.cache import cache

    target = run._target()
    lock = run.TargetLock(target, wait=0.2)
    assert cache.add(lock.key, "someone else", 60)
    with pytest.raises(Busy):
        publish_all(wait=0.2)
    cache.delete(lock.key)


def test_a_busy_task_retries_once_later_then_leaves_it_to_beat(site, monkeypatch):
    def busy(page_id, **kwargs):
        raise Busy("another publisher")

    monkeypatch.setattr(run, "publish_page", busy)
    monkeypatch.setitem(publish_page.app.conf, "task_always_eager", False)
    enqueued = []
    monkeypatch.setattr(
        publish_page, "apply_async", lambda args, kwargs=None, **kw: enqueued.append((args, kwargs, kw))
    )
    publish_page.run(site.default.pk)
    assert len(enqueued) == 1
    args, kwargs, options = enqueued[0]
    assert args == (site.default.pk,)
    assert kwargs == {"retried": True}
    assert options["countdown"] >= 5
    publish_page.run(*args, **kwargs)  # the retry finds the target busy again: beat covers it, no loop
    assert len(enqueued) == 1


def test_the_enqueue_from_a_web_request_does_not_retry(site, monkeypatch, django_capture_on_commit_callbacks):
    enqueued = []
    monkeypatch.setattr(publish_page, "apply_async", lambda args, **kw: enqueued.append(kw))
    with django_capture_on_commit_callbacks(execute=True):
        services.component_create(page=site.default, name="Enqueued once")
    assert len(enqueued) == 1
    assert enqueued[0].get("retry") is False


def test_the_publisher_renders_the_current_state_not_a_reused_one(site, settings, monkeypatch):
    """The worker keeps a page's state for PUBLIC_STATE_REUSE_MS; a change made by another process within
    that time must still reach the copy (and the digest recorded with it must match the bytes)."""
    settings.PUBLIC_STATE_REUSE_MS = 5000
    publish_all()
    for code in (None, CHIRPDESK, BEACONLY):  # the worker's copies of the page states (its visitors' hits)
        state.page_state(code)
    held = dict(state.reused)
    assert len(held) == 3
    incident = Incident.objects.filter(page=site.other, status="resolved").first()
    services.incident_edit(incident=incident, name="Renamed in the web process")
    state.reused.update(held)  # the web process forgot its copies; the worker (another process) did not
    publish_all()
    prefix = site.root / "p" / BEACONLY
    assert "Renamed in the web process" in (prefix / f"incidents/{incident.code}/index.html").read_text()
    document = json.loads((prefix / f"api/v2/incidents/{incident.code}.json").read_text())
    assert document["incident"]["name"] == "Renamed in the web process"
    assert "Renamed in the web process" in (prefix / "history/index.html").read_text()


def test_a_visitor_cannot_ask_for_a_fresh_render(site, client, settings):
    """The renderer's bypass is a WSGI environ entry holding an object: no header can produce it."""
    from incidents.public_cache.views import FRESH

    settings.PUBLIC_STATE_REUSE_MS = 5000
    client.get("/")
    response = client.get("/", **{FRESH: "1", "HTTP_" + FRESH.upper().replace(".", "_"): "1"})
    assert response.status_code == 200
    # a string in its place is ignored: the answer came from the stored entry (same ETag, no query)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        again = client.get("/", **{FRESH: "1"})
    assert again["ETag"] == response["ETag"]
    assert len(queries) == 0


def test_publishing_the_default_page_keeps_the_operators_own_files_at_the_root(site):
    site.root.mkdir(parents=True, exist_ok=True)
    own = {
        "robots.txt": b"User-agent: *\nDisallow:\n",
        "google0123456789abcdef.html": b"google-site-verification: google0123456789abcdef.html",
        "well-known/security.txt": b"Contact: mailto:security@example.com\n",
    }
    for name, data in own.items():
        (site.root / name).parent.mkdir(parents=True, exist_ok=True)
        (site.root / name).write_bytes(data)
    publish_all(full=True)
    incident = Incident.objects.filter(page=site.default).first()
    assert (site.root / f"incidents/{incident.code}/index.html").is_file()
    incident.delete()  # gone: its files are pruned, the operator's files stay
    publish_all()
    assert not (site.root / f"incidents/{incident.code}/index.html").exists()
    for name, data in own.items():
        assert (site.root / name).read_bytes() == data, name
    # and when no page is the default any more, the root's pages go but the operator's files stay
    site.default.is_default = False
    site.default.save(update_fields=["is_default"])
    publish_all()
    assert not (site.root / "index.html").exists()
    for name, data in own.items():
        assert (site.root / name).read_bytes() == data, name


def test_with_a_per_process_cache_a_later_write_still_enqueues(page, settings, tmp_path, monkeypatch):
    """Without REDIS_URL the cache is local memory, one per process: the worker's task cannot clear the web
    process's debounce flag, so the flag must not outlive the debounce itself (else a write a few seconds
    after another waited for beat)."""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "pubfix"}}
    settings.PUBLISH_TARGET = f"file://{tmp_path}"
    enqueued = []
    monkeypatch.setattr(publish_page, "apply_async", lambda args, **kw: enqueued.append(args))
    publishing.publish_soon(page.pk)
    publishing.publish_soon(page.pk)  # rides along with the first
    assert enqueued == [(page.pk,)]
    time.sleep(publishing.DEBOUNCE_SECONDS + 0.1)  # the task has started (in the worker, another process)
    publishing.publish_soon(page.pk)
    assert enqueued == [(page.pk,), (page.pk,)]
