"""Responders posting at the same second: writes serialise per incident and component (PostgreSQL)."""

import threading

from django.db import connection

from incidents import services
from incidents.choices import ComponentStatus as S
from incidents.models import ComponentStatusChange, Page


def run_together(functions):
    barrier = threading.Barrier(len(functions))
    errors = []

    def worker(fn):
        try:
            barrier.wait()
            fn()
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(fn,)) for fn in functions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors, errors


def test_concurrent_updates_to_one_incident_are_all_kept(postgres, transactional_db):
    page = services.page_create(name="Acme")
    api = services.component_create(page=page, name="API")
    incident = services.incident_create(page=page, name="Outage", body="first", components={api: S.MAJOR_OUTAGE})
    version = Page.objects.get(pk=page.pk).version
    run_together([
        lambda n=n: services.incident_post_update(incident=incident, body=f"parallel {n}") for n in range(6)
    ])  # fmt: skip
    assert incident.updates.count() == 7
    assert Page.objects.get(pk=page.pk).version == version + 6


def test_concurrent_status_changes_leave_an_unbroken_history(postgres, transactional_db):
    page = services.page_create(name="Acme")
    api = services.component_create(page=page, name="API")
    statuses = [S.DEGRADED_PERFORMANCE, S.PARTIAL_OUTAGE, S.MAJOR_OUTAGE, S.UNDER_MAINTENANCE] * 2
    run_together([lambda s=s: services.component_set_status(component=api, status=s) for s in statuses])
    changes = list(ComponentStatusChange.objects.filter(component=api).order_by("id"))
    # Each change starts from the status the previous one left: no lost update.
    for before, after in zip(changes, changes[1:], strict=False):
        assert after.old_status == before.new_status
    api.refresh_from_db()
    assert api.status == changes[-1].new_status
