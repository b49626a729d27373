from django.apps import AppConfig
from django.db.models.signals import post_migrate


class IncidentsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "incidents"
    verbose_name = "Incidents and components"

    def ready(self):
        from incidents.roles import sync_role_permissions

        # After every app's migrations, so the permissions of apps migrated later are included too.
        post_migrate.connect(sync_role_permissions, dispatch_uid="incidents.sync_role_permissions")
