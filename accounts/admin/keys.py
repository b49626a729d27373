"""API keys in the admin: create one (the key is shown once, in a message) and revoke them.

Who may: Django's model permissions of ApiKey (held by the Page admins group), as everywhere."""

from django.contrib import admin, messages
from django.utils import timezone

from accounts.models import ApiKey


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ["prefix", "name", "user", "created_at", "last_used_at", "revoked_at"]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["name", "prefix", "user__username"]
    fields = ["user", "name", "prefix", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = ["prefix", "created_at", "last_used_at", "revoked_at"]
    actions = ["revoke"]

    # Only the name of an existing key can change (change permission); the key itself never.
    def has_delete_permission(self, request, obj=None):
        return False  # revoke instead, so the key's history stays

    def get_readonly_fields(self, request, obj=None):
        if obj is not None:
            return [*self.readonly_fields, "user"]
        return self.readonly_fields

    def save_model(self, request, obj, form, change):
        key = None if change else obj.set_new_key()
        super().save_model(request, obj, form, change)
        if key:
            messages.warning(
                request, f"The new API key is {key} (copy it now: it is stored hashed and cannot be shown again)."
            )

    @admin.action(description="Revoke the selected API keys")
    def revoke(self, request, queryset):
        count = queryset.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
        self.message_user(request, f"Revoked {count} API key(s).", messages.SUCCESS)
