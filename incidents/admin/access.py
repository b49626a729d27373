"""Who reads a non-public page: its named viewers and its audience groups (the page's own visibility,
password and domains are on the page's screen). Every save bumps the page's version."""

from django import forms
from django.contrib import admin

from incidents import access_services
from incidents.admin.scope import PageScopedAdmin
from incidents.models import AudienceGroup, Viewer


class SamePageForm(forms.ModelForm):
    """The chosen components, incidents or group must be of the object's page."""

    scoped = ()

    def clean(self):
        data = super().clean()
        page = data.get("page") or getattr(self.instance, "page", None)
        for name in self.scoped:
            value = data.get(name)
            chosen = [value] if value is not None and not hasattr(value, "__iter__") else list(value or ())
            foreign = [str(o) for o in chosen if page is not None and o.page_id != page.pk]
            if foreign:
                self.add_error(name, f"Not of the page {page}: {', '.join(foreign)}.")
        return data


class AudienceGroupForm(SamePageForm):
    scoped = ("components", "incidents")

    class Meta:
        model = AudienceGroup
        fields = ("page", "name", "components", "incidents")


class ViewerForm(SamePageForm):
    scoped = ("group",)

    class Meta:
        model = Viewer
        fields = ("page", "email", "group")


class PageAccessAdmin(PageScopedAdmin, admin.ModelAdmin):
    list_filter = ("page",)

    def get_readonly_fields(self, request, obj=None):
        return ("page",) if obj else ()

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        access_services.page_access_changed(form.instance.page)

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        access_services.page_access_changed(obj.page)

    def delete_queryset(self, request, queryset):
        pages = {obj.page for obj in queryset.select_related("page")}
        super().delete_queryset(request, queryset)
        for page in pages:
            access_services.page_access_changed(page)


@admin.register(AudienceGroup)
class AudienceGroupAdmin(PageAccessAdmin):
    form = AudienceGroupForm
    list_display = ("name", "page")
    filter_horizontal = ("components", "incidents")


@admin.register(Viewer)
class ViewerAdmin(PageAccessAdmin):
    form = ViewerForm
    list_display = ("email", "page", "group")
    search_fields = ("email",)
