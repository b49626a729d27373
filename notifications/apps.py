from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "notifications"

    def ready(self):
        # incidents announces each posted update (inside its transaction); the outbox row is written there.
        from incidents import events
        from notifications.services import (
            maintenance_reminder,
            notification_for_component_change,
            notification_for_edit,
            notification_for_update,
        )

        events.update_posted.connect(notification_for_update)
        events.update_edited.connect(notification_for_edit)
        events.maintenance_reminder_due.connect(maintenance_reminder)
        events.component_status_changed.connect(notification_for_component_change)
        # Subscribers' writes land in the audit log like the domain's.
        from accounts import audit
        from notifications.models import Subscriber

        audit.connect([Subscriber])
        # The tasks register with Celery here, so that notifications.enqueue can name them in any process.
        import notifications.checks  # noqa: F401  (the outbox's system checks)
        import notifications.tasks  # noqa: F401
