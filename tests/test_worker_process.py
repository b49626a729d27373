"""The worker process as a web process treats its database connection: kept between tasks (CONN_MAX_AGE, with
its health check), closed when obsolete; and the URLconf imported when it starts, not in its first task."""

import time
from types import SimpleNamespace

import pytest
from django.db import connection
from django.urls import clear_url_caches, get_resolver

from statuspage.celery import app, connections_as_for_a_request, warm_up

pytestmark = pytest.mark.django_db(transaction=True)


def task(*, eager: bool):
    return SimpleNamespace(request=SimpleNamespace(is_eager=eager))


def test_celery_no_longer_closes_the_connection_after_every_task():
    # Celery's Django fixup closes every connection after each task unless this is set (celery/fixups/django.py).
    assert app.conf.get("CELERY_DB_REUSE_MAX") >= 100


def test_before_a_task_a_live_connection_is_kept_and_an_obsolete_one_closed(settings):
    if connection.vendor == "sqlite" and connection.is_in_memory_db():
        pytest.skip("Django never closes an in-memory SQLite test database")
    connection.ensure_connection()
    live = connection.connection
    connection.close_at = time.monotonic() + 60
    connections_as_for_a_request(task=task(eager=False))
    assert connection.connection is live

    connection.close_at = time.monotonic() - 1  # past CONN_MAX_AGE
    connections_as_for_a_request(task=task(eager=False))
    assert connection.connection is None


def test_an_eager_task_leaves_its_callers_connection_alone():
    connection.ensure_connection()
    live = connection.connection
    connection.close_at = time.monotonic() - 1
    connections_as_for_a_request(task=task(eager=True))
    assert connection.connection is live


def test_a_starting_worker_imports_the_urlconf_and_builds_its_reverse_lookups():
    clear_url_caches()  # as in a fresh process
    assert not get_resolver()._populated
    warm_up()
    assert get_resolver()._populated
