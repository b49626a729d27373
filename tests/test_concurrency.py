"""Responders posting at the same second (PostgreSQL, two threads): writes serialise per incident and component,
and never deadlock, because every writer locks in one order: the incident, components by primary key, the page.

Each test pauses both threads at the point where, without the lock (or with locks in another order), their
transactions would interleave badly; with the locks, the second thread waits for the first instead, and the
pause times out. Each was checked to fail with the lock removed or the order changed.
"""

import contextlib
import threading

import pytest
from django.db import connection

from incidents import page_services, services
from incidents.choices import ComponentStatus as S
from incidents.models import Component, ComponentStatusChange, Incident, Page
from incidents.services import incidents as incident_services
from incidents.services import pages as page_writes

PAUSE = 3  # seconds a thread waits for the other at a pause point (they meet only without the lock)

pytestmark = pytest.mark.usefixtures("postgres", "transactional_db")


def run_together(functions):
    """Run each function in its own thread (and connection), all started at once; the exceptions raised."""
    start = threading.Barrier(len(functions))
    errors = []

    def worker(fn):
        try:
            start.wait()
            fn()
        except Exception as exc:  # noqa: BLE001 - returned to the test
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(fn,)) for fn in functions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a thread is still blocked"
    return errors


def pause_at(monkeypatch, *pauses: tuple[object, str, str]):
    """Make the first paused call in each thread wait (up to PAUSE) for the other thread, "before" or "after"
    the function named (module, name, when) runs."""
    meeting = threading.Barrier(2, timeout=PAUSE)
    seen = threading.local()

    def wait():
        if not getattr(seen, "paused", False):
            seen.paused = True
            with contextlib.suppress(threading.BrokenBarrierError):
                meeting.wait()

    for module, name, when in pauses:
        original = getattr(module, name)

        def wrapper(*args, _original=original, _when=when, **kwargs):
            if _when == "before":
                wait()
            result = _original(*args, **kwargs)
            if _when == "after":
                wait()
            return result

        monkeypatch.setattr(module, name, wrapper)


@pytest.fixture
def acme():
    page = services.page_create(name="Acme")
    return page, services.component_create(page=page, name="API"), services.component_create(page=page, name="Web")


def test_two_clicks_on_the_same_message_post_it_once(acme, monkeypatch):
    """The duplicate guard is checked with the incident locked: of two identical posts at once, one is refused."""
    page, api, _ = acme
    incident = services.incident_create(page=page, name="Outage", body="Looking.")
    pause_at(monkeypatch, (incident_services, "is_probable_duplicate", "after"))
    post = lambda: services.incident_post_update(incident=incident, body="Fixed, we think.", refuse_duplicate=True)  # noqa: E731
    errors = run_together([post, post])
    assert [e.error_dict["body"][0].code for e in errors] == ["duplicate"]
    assert list(incident.updates.values_list("body", flat=True)) == ["Fixed, we think.", "Looking."]


def test_concurrent_updates_leave_the_incident_as_its_updates_say(acme, monkeypatch):
    """Each update refreshes the incident from all its updates: with the lock, the second sees the first."""
    page, api, _ = acme
    incident = services.incident_create(page=page, name="Outage", body="Looking.")
    version = Page.objects.get(pk=page.pk).version
    pause_at(monkeypatch, (incident_services, "incident_refresh", "before"))
    errors = run_together([
        lambda n=n: services.incident_post_update(incident=incident, status="monitoring", body=f"Watching {n}.")
        for n in range(2)
    ])  # fmt: skip
    assert not errors, errors
    stored = Incident.objects.get(pk=incident.pk)
    updates = list(stored.updates.order_by("display_at", "id"))
    assert len(updates) == 3
    # The stored derived fields are those of all three updates: entered monitoring at the first of the two,
    # last updated at the second (a lost update keeps one thread's partial view instead).
    assert (stored.status, stored.monitoring_at, stored.last_update_at) == (
        "monitoring", updates[1].display_at, updates[2].display_at,
    )  # fmt: skip
    assert Page.objects.get(pk=page.pk).version == version + 2


def test_components_given_in_opposite_orders_do_not_deadlock(acme, monkeypatch):
    """Two updates change the same two components, listed in opposite orders (a client's JSON key order)."""
    page, api, web = acme
    first = services.incident_create(page=page, name="One", body="a")
    second = services.incident_create(page=page, name="Two", body="b")
    pause_at(monkeypatch, (incident_services, "apply_component_status", "after"))
    errors = run_together([
        lambda: services.incident_post_update(incident=first, body="c", components={api: S.MAJOR_OUTAGE, web: S.MAJOR_OUTAGE}),
        lambda: services.incident_post_update(incident=second, body="d", components={web: S.PARTIAL_OUTAGE, api: S.PARTIAL_OUTAGE}),
    ])  # fmt: skip
    assert not errors, errors
    for component in (api, web):
        changes = list(ComponentStatusChange.objects.filter(component=component).order_by("id"))
        assert len(changes) == 2
        assert changes[1].old_status == changes[0].new_status  # each started from what the other left
        assert Component.objects.get(pk=component.pk).status == changes[1].new_status


def test_an_update_and_a_quick_status_change_do_not_deadlock_over_the_page(acme, monkeypatch):
    """The update used to lock the page with its incident (first); the quick change locks it last."""
    page, api, _ = acme
    incident = services.incident_create(page=page, name="Outage", body="Looking.")
    pause_at(
        monkeypatch,
        (incident_services, "is_probable_duplicate", "after"),
        (page_writes, "apply_component_status", "after"),
    )
    errors = run_together([
        lambda: services.incident_post_update(
            incident=incident, body="Worse.", components={api: S.MAJOR_OUTAGE}, refuse_duplicate=True
        ),
        lambda: services.component_set_status(component=api, status=S.DEGRADED_PERFORMANCE),
    ])  # fmt: skip
    assert not errors, errors
    changes = list(ComponentStatusChange.objects.filter(component=api).order_by("id"))
    assert [c.old_status for c in changes[1:]] == [c.new_status for c in changes[:-1]]
    assert Component.objects.get(pk=api.pk).status == changes[-1].new_status


def test_a_time_zone_change_and_a_status_change_do_not_deadlock(acme, monkeypatch):
    """Moving the page's days replays its components: they are locked first, the page last."""
    page, api, _ = acme
    services.component_set_status(component=api, status=S.PARTIAL_OUTAGE)
    pause_at(
        monkeypatch,
        (page_services, "rebuild_component_days", "before"),
        (page_writes, "apply_component_status", "after"),
    )
    errors = run_together([
        lambda: page_services.page_update(page=page, time_zone="Europe/Paris"),
        lambda: services.component_set_status(component=api, status=S.OPERATIONAL),
    ])  # fmt: skip
    assert not errors, errors
    assert Page.objects.get(pk=page.pk).time_zone == "Europe/Paris"
    assert Component.objects.get(pk=api.pk).status == S.OPERATIONAL


def test_concurrent_status_changes_leave_an_unbroken_history(acme):
    page, api, _ = acme
    statuses = [S.DEGRADED_PERFORMANCE, S.PARTIAL_OUTAGE, S.MAJOR_OUTAGE, S.UNDER_MAINTENANCE] * 2
    assert not run_together([lambda s=s: services.component_set_status(component=api, status=s) for s in statuses])
    changes = list(ComponentStatusChange.objects.filter(component=api).order_by("id"))
    # Each change starts from the status the previous one left: no lost update.
    for before, after in zip(changes, changes[1:], strict=False):
        assert after.old_status == before.new_status
    assert Component.objects.get(pk=api.pk).status == changes[-1].new_status


def test_a_manage_api_patch_of_name_and_status_and_a_quick_status_change_do_not_deadlock(acme, monkeypatch, admin_key):
    """A PATCH that renames and changes a status used to edit the name first (a page lock), then lock components."""
    from django.test import Client

    page, api, _ = acme
    incident = services.incident_create(page=page, name="Outage", body="Looking.")
    pause_at(
        monkeypatch,
        (incident_services, "lock_components", "before"),  # the API's update, about to lock its components
        (page_writes, "apply_component_status", "after"),  # the quick change, holding its component
    )
    answers = []

    def patch():
        answers.append(
            Client()
            .patch(
                f"/api/v1/pages/{page.code}/incidents/{incident.code}",
                {
                    "incident": {
                        "name": "Outage in the EU",
                        "status": "identified",
                        "components": {api.code: "major_outage"},
                    }
                },
                content_type="application/json",
                headers={"authorization": f"OAuth {admin_key}"},
            )
            .status_code
        )

    errors = run_together([patch, lambda: services.component_set_status(component=api, status=S.DEGRADED_PERFORMANCE)])
    assert not errors, errors
    assert answers == [200]
    assert Incident.objects.get(pk=incident.pk).name == "Outage in the EU"
