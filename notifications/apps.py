from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "notifications"

    def ready(self):
        # The tasks register with Celery here, so that notifications.enqueue can name them in any process.
        import notifications.tasks  # noqa: F401
        import statuspage.checks  # noqa: F401  (the outbox's system checks)
