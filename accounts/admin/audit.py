"""The audit log in the admin: read-only, for page admins (their pages' entries), filtered by page, object type
and person, and exported as CSV (the selected entries, or all of a filter with "Select all")."""

import csv

from django.contrib import admin
from django.http import HttpResponse

from accounts.models import AuditEntry
from accounts.roles import admin_pages_of
from incidents.admin.scope import NotFoundOutsideQueryset

CSV_FIELDS = ["at", "actor", "user", "api_key", "page", "action", "object_type", "object_id", "object_repr"]


@admin.register(AuditEntry)
class AuditEntryAdmin(NotFoundOutsideQueryset, admin.ModelAdmin):
    list_display = ["at", "actor", "action", "object_type", "object_repr", "page"]
    list_filter = [
        ("page", admin.RelatedOnlyFieldListFilter),
        "object_type",
        ("user", admin.RelatedOnlyFieldListFilter),
    ]
    search_fields = ["object_repr", "actor", "object_id"]
    list_select_related = ["page"]
    date_hierarchy = "at"
    actions = ["export_csv"]

    def get_queryset(self, request):
        entries = super().get_queryset(request)
        if request.user.is_superuser:
            return entries
        return entries.filter(page__in=admin_pages_of(request.user))

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # the log is kept whole

    @admin.action(description="Export the selected entries as CSV", permissions=["view"])
    def export_csv(self, request, queryset):
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="audit-log.csv"'
        writer = csv.writer(response)
        writer.writerow([*CSV_FIELDS, "before", "after"])
        for entry in queryset.select_related("user", "api_key", "page").iterator():
            row = [getattr(entry, name) for name in CSV_FIELDS]
            writer.writerow([("" if v is None else str(v)) for v in row] + [entry.before or "", entry.after or ""])
        return response
