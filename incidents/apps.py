from django.apps import AppConfig


class IncidentsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "incidents"
    verbose_name = "Incidents and components"

    def ready(self):
        from django.core.signals import setting_changed

        from incidents.public_cache.backend import skip_idle_close

        skip_idle_close()
        setting_changed.connect(skip_idle_close)
