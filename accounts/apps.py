from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AccountsConfig(AppConfig):
    """Who may do what: the staff roles (groups of Django permissions), the user admin and the API keys.

    Above incidents (it may use the domain; incidents never imports it), below notifications and api."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "accounts"
    verbose_name = "Accounts and API keys"

    def ready(self):
        from accounts.roles import sync_role_permissions

        # After every app's migrations, so the permissions of apps migrated later are included too.
        post_migrate.connect(sync_role_permissions, dispatch_uid="accounts.sync_role_permissions")
