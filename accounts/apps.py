from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AccountsConfig(AppConfig):
    """Who may do what: the staff roles on pages (memberships), the user admin, the API keys and the audit log.

    Above incidents (it may use the domain; incidents never imports it), below notifications and api."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "accounts"
    verbose_name = "Accounts and API keys"

    def ready(self):
        from accounts import audit
        from accounts.roles import sync_role_permissions

        audit.connect_domain()
        # After every app's migrations, so the permissions of apps migrated later are included too.
        post_migrate.connect(sync_role_permissions, dispatch_uid="accounts.sync_role_permissions")
