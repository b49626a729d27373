"""The Celery settings (statuspage/settings.py takes them all): the broker, the task limits and beat's schedule.

A Redis broker in production; without REDIS_URL an embedded broker, kombu's filesystem transport in
EMBEDDED_DIR (default var/), served by the worker and beat that `make run` starts. The broker carries ids only.
(The test suite runs tasks in-process: tests/conftest.py.)
"""

from pathlib import Path

from statuspage.env import env_int, env_str


def celery_settings(redis_url: str | None, base_dir: Path) -> dict:
    """The settings, by name (CELERY_*, EMBEDDED_DIR, BEAT_INTERVAL, REDIS_BROKER_TRANSPORT_OPTIONS)."""
    EMBEDDED_DIR = Path(env_str("EMBEDDED_DIR") or base_dir / "var").resolve()
    if redis_url:
        CELERY_BROKER_URL = redis_url
    else:
        CELERY_BROKER_URL = "filesystem://"
        _queue_dir = EMBEDDED_DIR / "broker"
        CELERY_BROKER_TRANSPORT_OPTIONS = {
            "data_folder_in": str(_queue_dir),
            "data_folder_out": str(_queue_dir),
            "control_folder": str(EMBEDDED_DIR / "broker-control"),
        }
        CELERY_BEAT_SCHEDULE_FILENAME = str(EMBEDDED_DIR / "celerybeat-schedule")
        for _folder in (_queue_dir, EMBEDDED_DIR / "broker-control"):
            _folder.mkdir(parents=True, exist_ok=True)
    CELERY_TASK_ALWAYS_EAGER = False
    CELERY_TASK_EAGER_PROPAGATES = True
    CELERY_TASK_IGNORE_RESULT = True
    CELERY_TASK_ACKS_LATE = True
    CELERY_TASK_REJECT_ON_WORKER_LOST = True
    CELERY_WORKER_PREFETCH_MULTIPLIER = 1
    CELERY_TASK_SERIALIZER = "json"
    CELERY_ACCEPT_CONTENT = ["json"]
    CELERY_DB_REUSE_MAX = 1000  # tasks per connection; CONN_MAX_AGE applies before each (statuspage/celery.py)
    # Below the outbox's stuck window (NOTIFICATIONS_STUCK_AFTER_SECONDS; a system check): a hung task is killed
    # before the sweeper hands its claim to another worker. A send task stops at the soft limit and requeues the rest.
    CELERY_TASK_TIME_LIMIT = 40
    CELERY_TASK_SOFT_TIME_LIMIT = 30
    CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
    # A write never waits on a hung broker: short connect and send timeouts, no retry loop (the outbox rows are
    # committed first; the sweeper hands over what the broker did not take).
    CELERY_BROKER_CONNECTION_TIMEOUT = 1
    CELERY_TASK_PUBLISH_RETRY = False
    REDIS_BROKER_TRANSPORT_OPTIONS = {
        "socket_connect_timeout": 1,
        "socket_timeout": 2,
        "max_retries": 0,
        "connect_retries_timeout": 1,
    }
    if redis_url:
        CELERY_BROKER_TRANSPORT_OPTIONS = dict(REDIS_BROKER_TRANSPORT_OPTIONS)
        if env_str("CELERY_BROKER_KEY_PREFIX", ""):  # installations (or tests) sharing one Redis keep apart
            CELERY_BROKER_TRANSPORT_OPTIONS["global_keyprefix"] = env_str("CELERY_BROKER_KEY_PREFIX", "")
    # The queue name: installations (or benchmarks) sharing one Redis each use their own.
    CELERY_TASK_DEFAULT_QUEUE = env_str("CELERY_QUEUE", "celery")
    # Beat: the outbox sweeper re-enqueues what a broker outage or a dead worker left behind; maintenances move
    # along and reminders go out. Every BEAT_INTERVAL seconds (a minute; tests shorten it).
    BEAT_INTERVAL = float(env_int("BEAT_INTERVAL", 60, minimum=1, maximum=3600))
    CELERY_BEAT_SCHEDULE = {
        name: {"task": task, "schedule": BEAT_INTERVAL}
        for name, task in [
            ("notifications-sweep", "notifications.tasks.sweep"),
            ("watch-update-promises", "incidents.tasks.watch_update_promises"),
            ("advance-maintenances", "incidents.tasks.advance_maintenances"),
            ("remind-maintenance-subscribers", "incidents.tasks.remind_maintenance_subscribers"),
            ("publish-all-pages", "incidents.tasks.publish_all_pages"),  # if PUBLISH_TARGET is set
        ]
    }
    # The outbox sweeper runs more often: what a broker outage or a dead worker left behind goes out within seconds
    # of the sweep that finds it (every 15 s, or BEAT_INTERVAL when that is shorter).
    CELERY_BEAT_SCHEDULE["notifications-sweep"]["schedule"] = min(15.0, BEAT_INTERVAL)
    return {name: value for name, value in locals().items() if name.isupper()}  # the settings, not the helpers
