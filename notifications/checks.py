"""The outbox's system checks: settings that would break its delivery guarantees stop start-up."""

from django.conf import settings
from django.core.checks import Error, register


@register()
def check_task_time_limit_below_stuck_window(app_configs=None, **kwargs):
    """A task must be killed before the outbox sweeper takes its claim back, or two workers send one chunk."""
    from notifications import conf

    limit = getattr(settings, "CELERY_TASK_TIME_LIMIT", None)
    window = conf.stuck_after_seconds()
    if limit is None or limit >= window:
        return [
            Error(
                f"CELERY_TASK_TIME_LIMIT ({limit}) must be set and below NOTIFICATIONS_STUCK_AFTER_SECONDS "
                f"({window:g}): a send task still running when the sweeper gives its claim back races the "
                "worker that takes it.",
                hint="Lower CELERY_TASK_TIME_LIMIT (and CELERY_TASK_SOFT_TIME_LIMIT) or raise the stuck window.",
                id="notifications.E001",
            )
        ]
    return []
