"""Members of pages: page admins manage who holds which role on the pages they administer (and only those)."""

from django.contrib import admin, messages

from accounts.models import Membership, Role
from accounts.roles import admin_pages_of, users_managed_by
from accounts.services import member_set
from incidents.admin.components import PageAdmin
from incidents.admin.scope import NotFoundOutsideQueryset
from incidents.models import Page


@admin.register(Membership)
class MembershipAdmin(NotFoundOutsideQueryset, admin.ModelAdmin):
    """Who holds which role on the pages the signed-in user administers (every page for a superuser)."""

    list_display = ("user", "page", "role")
    list_filter = (("page", admin.RelatedOnlyFieldListFilter), "role")
    search_fields = ("user__username", "user__email")
    list_select_related = ("user", "page")
    fields = ("user", "page", "role")

    def get_queryset(self, request):
        return super().get_queryset(request).filter(page__in=admin_pages_of(request.user))

    def get_readonly_fields(self, request, obj=None):
        return ("user", "page") if obj is not None else ()

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "page":
            kwargs["queryset"] = admin_pages_of(request.user)
        elif db_field.name == "user":
            # Another page's members are not named to this page's admins (users_managed_by).
            kwargs["queryset"] = users_managed_by(request.user).filter(is_superuser=False, is_active=True)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def _may(self, request, action, obj):
        perm = f"accounts.{action}_membership"
        return request.user.has_perm(perm, obj) if obj is not None else request.user.has_perm(perm)

    def has_view_permission(self, request, obj=None):
        return self._may(request, "view", obj) or self._may(request, "change", obj)

    def has_change_permission(self, request, obj=None):
        return self._may(request, "change", obj)

    def has_delete_permission(self, request, obj=None):
        return self._may(request, "delete", obj)

    def save_model(self, request, obj, form, change):
        membership = member_set(user=obj.user, page=obj.page, role=obj.role)  # staff too
        obj.pk = membership.pk


admin.site.unregister(Page)


@admin.register(Page)
class PageWithMembersAdmin(PageAdmin):
    """The page's screen. Whoever creates a page (not a superuser) becomes its page admin."""

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if not change and not request.user.is_superuser:
            member_set(user=request.user, page=obj, role=Role.PAGE_ADMIN)
            messages.info(request, f"You are the page admin of {obj}.")
