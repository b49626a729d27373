import os

from celery import Celery
from celery.signals import task_prerun, worker_process_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "statuspage.settings")

app = Celery("statuspage")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@task_prerun.connect
def connections_as_for_a_request(task=None, **kwargs):
    """A task keeps its database connection as a web request does (CONN_MAX_AGE, with its health check).

    Celery's Django fixup closes it after every task unless CELERY_DB_REUSE_MAX is set (settings.py sets it),
    and a send task would open a new PostgreSQL connection for each chunk. Not in an eager task: it runs inside
    the caller's request or transaction."""
    if task is not None and not getattr(task.request, "is_eager", False):
        from django.db import close_old_connections

        close_old_connections()


@worker_process_init.connect
def warm_up(**kwargs):
    """Import what the first notification needs (the URLconf, and the views and libraries it imports) when the
    worker starts, not in the middle of the first fan-out's first chunk (about 0.3 s)."""
    from django.urls import get_resolver

    get_resolver().reverse_dict  # noqa: B018 - imports the URLconf and builds its reverse lookups
