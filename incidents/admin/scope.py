"""Every admin shows each user only their pages' objects: the mixin of every ModelAdmin of a page's objects.

Which pages are the user's is asked of the permission system only (`user.has_perm("incidents.view_page", page)`,
answered from per-page membership by accounts.backends), so incidents needs nothing of accounts. A superuser
has every page. Lists, choosers and list filters hold the user's pages' objects only; another page's object
answers 404 (not 403: its existence is not told); a change asks the permission on the object itself.
"""

from django.contrib import admin
from django.contrib.admin.utils import get_fields_from_path
from django.contrib.auth import get_permission_codename
from django.core.exceptions import FieldDoesNotExist, PermissionDenied
from django.http import Http404

from incidents.models import Page

MEMBER = "incidents.view_page"


def user_page_ids(request, *perms: str) -> set[int] | None:
    """The ids of the pages on which the user holds one of perms (default: is a member); None: every page, for a
    superuser. Asked once per request."""
    user = request.user
    if user.is_active and user.is_superuser:
        return None
    perms = perms or (MEMBER,)
    cache = request.__dict__.setdefault("_page_ids", {})
    if perms not in cache:
        pages = Page.objects.only("pk")
        cache[perms] = {page.pk for page in pages if any(user.has_perm(perm, page) for perm in perms)}
    return cache[perms]


def scoped(request, queryset, page_path: str = "page", *perms: str):
    """The queryset's rows on the pages where the user holds one of perms (default: is a member); `page_path`
    leads from the row to its page."""
    ids = user_page_ids(request, *perms)
    return queryset if ids is None else queryset.filter(**{f"{page_path}__in": ids})


def _page_path_of(model) -> str | None:
    if model is Page:
        return "pk"
    try:
        model._meta.get_field("page")
    except FieldDoesNotExist:
        return None
    return "page"


class NotFoundOutsideQueryset:
    """Mixin for a ModelAdmin: an object outside its get_queryset answers 404 (Django's admin redirects to the
    index with a message, which tells that the id exists somewhere)."""

    def _get_obj_does_not_exist_redirect(self, request, opts, object_id):
        raise Http404(f"No {opts.verbose_name} with the id {object_id!r} here.")


class PageScopedAdmin(NotFoundOutsideQueryset):
    """Mixin for a ModelAdmin (before it in the bases). `page_path` leads from the model to its page."""

    page_path = "page"

    def _perm(self, action: str) -> str:
        return f"{self.opts.app_label}.{get_permission_codename(action, self.opts)}"

    def get_queryset(self, request):
        """The rows on the pages where the user's role lets them see this model (not merely be a member)."""
        return scoped(request, super().get_queryset(request), self.page_path, self._perm("view"), self._perm("change"))

    def _may(self, request, action: str, obj) -> bool:
        return request.user.has_perm(self._perm(action), obj)

    def has_view_permission(self, request, obj=None):
        if obj is None:
            return super().has_view_permission(request, obj)
        return self._may(request, "view", obj) or self._may(request, "change", obj)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and (obj is None or self._may(request, "change", obj))

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and (obj is None or self._may(request, "delete", obj))

    def save_model(self, request, obj, form, change):
        if (change or self.page_path != "pk") and not self._may(request, "change" if change else "add", obj):
            raise PermissionDenied  # a page offered in no chooser, or a role that does not allow it there
        super().save_model(request, obj, form, change)

    def delete_queryset(self, request, queryset):
        super().delete_queryset(request, scoped(request, queryset, self.page_path, self._perm("delete")))

    def _chooser_queryset(self, request, db_field, queryset):
        """Pages, and objects of pages, where the user may add or change this model's objects."""
        path = _page_path_of(db_field.related_model)
        if path is None:
            return queryset
        return scoped(request, queryset, path, self._perm("add"), self._perm("change"))

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if field is not None and hasattr(field, "queryset"):
            field.queryset = self._chooser_queryset(request, db_field, field.queryset)
        return field

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        field = super().formfield_for_manytomany(db_field, request, **kwargs)
        if field is not None and hasattr(field, "queryset"):
            field.queryset = self._chooser_queryset(request, db_field, field.queryset)
        return field

    def get_list_filter(self, request):
        """A filter on a related object lists only those of the user's pages (those in the list)."""
        filters = []
        for entry in super().get_list_filter(request):
            if isinstance(entry, str):
                field = get_fields_from_path(self.model, entry)[-1]
                if field.is_relation:
                    entry = (entry, admin.RelatedOnlyFieldListFilter)
            filters.append(entry)
        return filters
