"""Users, as page admins manage them: they add responders and page admins, never superusers.

Django's own user admin lets anyone with "change user" tick "superuser" or grant any permission; here
only a superuser can, and a page admin can neither change nor delete a superuser.
"""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import Group, User

from incidents.roles import PAGE_ADMINS, RESPONDERS

admin.site.unregister(User)


@admin.register(User)
class StaffUserAdmin(UserAdmin):
    def get_readonly_fields(self, request, obj=None):
        readonly = tuple(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            readonly += ("is_superuser", "user_permissions", "last_login", "date_joined")
        return readonly

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "groups" and not request.user.is_superuser:
            kwargs["queryset"] = Group.objects.filter(name__in=[RESPONDERS, PAGE_ADMINS])
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def _touches_a_superuser(self, request, obj) -> bool:
        return obj is not None and obj.is_superuser and not request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and not self._touches_a_superuser(request, obj)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and not self._touches_a_superuser(request, obj)

    def get_queryset(self, request):
        users = super().get_queryset(request)
        return users if request.user.is_superuser else users.filter(is_superuser=False)
