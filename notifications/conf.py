"""Notification knobs, with defaults; statuspage/settings.py sets the ones an operator may change."""

from django.conf import settings


def get(name: str, default):
    return getattr(settings, f"NOTIFICATIONS_{name}", default)


def chunk_size() -> int:
    """Recipients per send task (one SMTP connection each)."""
    return get("CHUNK_SIZE", 200)


def rate_limit() -> int:
    """Outbound messages per second across all workers; 0 means no limit."""
    return get("RATE_LIMIT", 0)


def max_attempts() -> int:
    return get("MAX_ATTEMPTS", 5)


def retry_base_seconds() -> float:
    """First retry delay; doubled each attempt, with jitter."""
    return get("RETRY_BASE_SECONDS", 30.0)


def retry_max_seconds() -> float:
    return get("RETRY_MAX_SECONDS", 3600.0)


def sweep_after_seconds() -> float:
    """A row handed to the broker this long ago and still waiting is re-enqueued (the broker lost it).

    Rows the broker never took (enqueued_at NULL: it was down) go at the next sweep.
    """
    return get("SWEEP_AFTER_SECONDS", 120.0)


def stuck_after_seconds() -> float:
    """A claim with no sign of life (heartbeat) for this long belongs to a dead worker: back to the queue.

    Each message refreshes its claim's heartbeat just before it is sent, so this is inactivity, not age;
    CELERY_TASK_TIME_LIMIT must stay below it (a system check says so).
    """
    return get("STUCK_AFTER_SECONDS", 45.0)


def import_max_addresses() -> int:
    """The largest CSV import (addresses) the admin accepts."""
    return get("IMPORT_MAX_ADDRESSES", 50_000)


def confirm_max_age() -> int:
    return get("CONFIRM_MAX_AGE", 3 * 24 * 3600)


def link_max_age() -> int:
    """Manage and unsubscribe links in emails."""
    return get("LINK_MAX_AGE", 365 * 24 * 3600)


def confirmation_interval() -> int:
    """A pending address asking again gets at most one new confirmation email per this many seconds."""
    return get("CONFIRMATION_INTERVAL", 600)


def subscribe_limits() -> tuple[tuple[int, int], tuple[int, int]]:
    """(requests, seconds) per IP and per address."""
    return get("SUBSCRIBE_LIMIT_PER_IP", (20, 3600)), get("SUBSCRIBE_LIMIT_PER_ADDRESS", (5, 3600))


def order_wait_seconds() -> float:
    """An endpoint's event held back behind an earlier one of the same incident is tried again after this."""
    return get("ORDER_WAIT_SECONDS", 5.0)


def endpoint_quarantine() -> tuple[int, int]:
    """(failures, seconds): an endpoint failing this many times in a row within the window is quarantined."""
    return get("ENDPOINT_QUARANTINE_FAILURES", 10), get("ENDPOINT_QUARANTINE_WINDOW", 3600)


def endpoint_retries() -> tuple[int, float, float]:
    """(attempts, first delay, longest delay) of one event to an endpoint: 10 tries over about 40 minutes
    (10 s doubling to 10 min), so an endpoint down for that long fails 10 times within the quarantine's hour."""
    return (
        get("ENDPOINT_MAX_ATTEMPTS", 10),
        get("ENDPOINT_RETRY_BASE_SECONDS", 10.0),
        get("ENDPOINT_RETRY_MAX_SECONDS", 600.0),
    )


def endpoint_chunk_size() -> int:
    """Endpoint (webhook, chat) messages per send task; a task's fixed costs (claim, read, the last window's
    wait) are paid once for this many, not once per `chunk_size`."""
    return get("ENDPOINT_CHUNK_SIZE", 1000)


def endpoint_window() -> int:
    """Endpoint (webhook, chat) messages checked by one claim check and sent together, each to a different
    subscriber (a worker killed mid-chunk may send at most two windows again)."""
    return get("ENDPOINT_WINDOW", 50)


def endpoint_threads() -> int:
    """Threads a send task posts a window's endpoint messages from."""
    return get("ENDPOINT_THREADS", 16)


def endpoint_per_host() -> int:
    """POSTs at once to one host (and the connections kept to it): a slow host holds at most this many threads."""
    return get("ENDPOINT_PER_HOST", 4)
