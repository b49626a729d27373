"""Handing ids to the broker, for the services and the tasks alike (neither imports the other).

A call never blocks long and never raises: the broker's connect and send timeouts are short
(CELERY_BROKER_TRANSPORT_OPTIONS), nothing is retried here, and a failure only returns False. The rows
are already in the database, so the sweeper hands over whatever the broker did not take.
"""

import logging

from celery import current_app

log = logging.getLogger(__name__)

FANOUT = "notifications.tasks.fanout"
SEND_DELIVERIES = "notifications.tasks.send_deliveries"
SEND_SUBSCRIBER_EMAIL = "notifications.tasks.send_subscriber_email"
IMPORT_SUBSCRIBERS = "notifications.tasks.import_subscribers"


def enqueue(task_name: str, *args, countdown: float | None = None) -> bool:
    """Run the task by name (in-process when Celery is eager); False if the broker did not take it."""
    try:
        current_app.tasks[task_name].apply_async(args, countdown=countdown, retry=False)
    except Exception:  # the broker is away or hung: the sweeper will do it
        log.warning("Could not enqueue %s%r; the sweeper will retry", task_name, args)
        return False
    return True


def enqueue_fanout(notification_id: int) -> bool:
    return enqueue(FANOUT, notification_id)


def enqueue_send(delivery_ids: list[int], countdown: float | None = None) -> bool:
    return enqueue(SEND_DELIVERIES, delivery_ids, countdown=countdown)


def enqueue_subscriber_email(email_id: int, countdown: float | None = None) -> bool:
    return enqueue(SEND_SUBSCRIBER_EMAIL, email_id, countdown=countdown)


def enqueue_import(import_id: int) -> bool:
    return enqueue(IMPORT_SUBSCRIBERS, import_id)
