"""Users, as page admins manage them: they add responders and page admins, never superusers.

Django's own user admin lets anyone with "change user" tick "superuser" or grant any permission; here
only a superuser can, and a page admin can neither change nor delete a superuser. A user put in one of
the two roles is made staff on save (the role means nothing without it).

A page admin sees the users whose every membership is on pages they administer (and users of no page yet, to
give them one): never a member of someone else's page. Roles on pages are the Memberships (members.py).
"""

from django.contrib import admin, messages
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import Group, User
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from accounts.roles import PAGE_ADMINS, RESPONDERS, staff_for_roles, users_managed_by
from incidents.admin.scope import NotFoundOutsideQueryset

admin.site.unregister(User)


class StaffLoginForm(AdminAuthenticationForm):
    """Django's admin login, except that a right password of a non-staff account is not called wrong."""

    error_messages = {
        **AdminAuthenticationForm.error_messages,
        "not_staff": _(
            "This account has no access to the admin. Ask a page admin to add it to Responders or Page admins."
        ),
    }

    def confirm_login_allowed(self, user):
        if user.is_active and not user.is_staff:
            raise ValidationError(self.error_messages["not_staff"], code="not_staff")
        super().confirm_login_allowed(user)


admin.site.login_form = StaffLoginForm


@admin.register(User)
class StaffUserAdmin(NotFoundOutsideQueryset, UserAdmin):
    def get_readonly_fields(self, request, obj=None):
        readonly = tuple(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            readonly += ("is_superuser", "user_permissions", "last_login", "date_joined")
        return readonly

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "groups" and not request.user.is_superuser:
            kwargs["queryset"] = Group.objects.filter(name__in=[RESPONDERS, PAGE_ADMINS])
        field = super().formfield_for_manytomany(db_field, request, **kwargs)
        if db_field.name == "groups" and field is not None:
            field.help_text = f"{RESPONDERS} and {PAGE_ADMINS} are made staff on save, so that they can log in here."
        return field

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        user = form.instance
        if staff_for_roles(user):
            messages.info(
                request,
                f"The user {user.username} has a role, so they are now staff too: they can log in to the admin.",
            )

    def _touches_a_superuser(self, request, obj) -> bool:
        return obj is not None and obj.is_superuser and not request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and not self._touches_a_superuser(request, obj)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and not self._touches_a_superuser(request, obj)

    def get_queryset(self, request):
        return super().get_queryset(request) & users_managed_by(request.user)
