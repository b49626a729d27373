"""Pages, component groups and components. Every write goes through the services."""

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from incidents import access_services, page_services, services
from incidents.admin.scope import PageScopedAdmin
from incidents.admin.snippets import snippets_html
from incidents.choices import Visibility
from incidents.metrics import mean_time_to_resolve_by_component
from incidents.models import Component, ComponentGroup, ComponentStatusChange, Page, split_domains
from incidents.permissions import COMPONENT_DETAILS
from incidents.presentation import format_duration


def _adopt(obj, created):
    """Let the admin carry on with the object the service created (for logging and the redirect)."""
    obj.pk, obj.code = created.pk, created.code


class PageForm(forms.ModelForm):
    url = forms.URLField(required=False, assume_scheme="https", label="Website")
    logo_upload = forms.FileField(
        required=False, label="Logo", help_text="PNG, JPEG, GIF or WebP, at most 200 KB; shown instead of the name."
    )
    remove_logo = forms.BooleanField(required=False, label="Remove the logo")
    new_password = forms.CharField(
        required=False,
        label="Page password",
        widget=forms.PasswordInput(render_value=False),
        help_text="For a page protected by a password: set or replace it (visitors signed in with the old one "
        "are signed out). Empty: unchanged.",
    )

    class Meta:
        model = Page
        fields = (
            "name",
            "time_zone",
            "default_language",
            "url",
            "support_url",
            "accent_colour",
            "visibility",
            "allowed_domains",
        )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "visibility" in self.fields:  # not there for a user who may only look (every field read-only)
            self.fields["visibility"].required = False  # not sent: unchanged
        if "default_language" in self.fields:
            self.fields["default_language"].required = False  # not sent: unchanged

    def clean_default_language(self):
        return self.cleaned_data.get("default_language") or self.instance.default_language or settings.LANGUAGE_CODE

    def clean_visibility(self):
        return self.cleaned_data.get("visibility") or self.instance.visibility or Visibility.PUBLIC

    def clean(self):
        data = super().clean()
        try:
            if "allowed_domains" in data:
                data["allowed_domains"] = access_services.clean_domains(data["allowed_domains"])
            if data.get("new_password"):
                access_services.check_password_text(data["new_password"])
            access_services.check_access(
                data.get("visibility") or Visibility.PUBLIC,
                has_password=bool(data.get("new_password") or self.instance.password_hash),
                domains=split_domains(data.get("allowed_domains", "")),
            )
        except ValidationError as error:
            for field, messages_ in error.message_dict.items():
                self.add_error("new_password" if field == "password" else field, messages_)
        return data

    def clean_logo_upload(self):
        upload = self.cleaned_data.get("logo_upload")
        self.logo_bytes = upload.read(page_services.LOGO_MAX_BYTES + 1) if upload else None
        if self.logo_bytes is not None:
            try:
                page_services.check_logo(self.logo_bytes)
            except ValidationError as error:
                raise forms.ValidationError(error.messages) from None
        return upload


@admin.register(Page)
class PageAdmin(PageScopedAdmin, admin.ModelAdmin):
    form = PageForm
    page_path = "pk"
    list_display = ("name", "code", "time_zone", "visibility", "is_default", "public_link")
    fields = (
        "name",
        "time_zone",
        "default_language",
        "url",
        "support_url",
        "accent_colour",
        "logo_upload",
        "remove_logo",
        "visibility",
        "new_password",
        "allowed_domains",
        "code",
        "is_default",
        "mean_time_to_resolve",
        "embed_snippets",
    )
    readonly_fields = ("code", "is_default", "mean_time_to_resolve", "embed_snippets")
    actions = ["make_default"]

    @admin.action(description="Make this the default page", permissions=["change"])
    def make_default(self, request, queryset):
        pages = list(queryset[:2])
        if len(pages) != 1:
            self.message_user(request, "Select exactly one page to make the default.", messages.ERROR)
            return
        page = page_services.page_make_default(page=pages[0])
        self.message_user(request, f"{page} is now the default page, served at /.", messages.SUCCESS)

    @admin.display(description="Mean time to resolve, last 90 days")
    def mean_time_to_resolve(self, obj):
        if obj is None or obj.pk is None:
            return "—"
        rows = mean_time_to_resolve_by_component(obj, timezone.now())
        if not rows:
            return "No incident resolved in the last 90 days."
        lines = ((name, format_duration(mean), count) for name, mean, count in rows)
        return format_html_join("", "<div>{}: {} ({} incidents)</div>", lines)

    @admin.display(description="Badges, widget and embed")
    def embed_snippets(self, obj):
        if obj is None or obj.pk is None:
            return "Shown once the page is saved."
        return mark_safe(snippets_html(obj))  # noqa: S308 - rendered by a template, which escapes every value

    class Media:
        css = {"all": ["css/admin-snippets.css"]}

    def has_delete_permission(self, request, obj=None):
        # The default page is served at /: it stays until another page is made the default.
        return super().has_delete_permission(request, obj) and not (obj is not None and obj.is_default)

    @admin.display(description="Public page")
    def public_link(self, obj):
        return format_html('<a href="{0}">{0}</a>', obj.get_absolute_url())

    def save_model(self, request, obj, form, change):
        fields = {name: form.cleaned_data[name] for name in form.changed_data if name in page_services.PAGE_FIELDS}
        if change:
            page_services.page_update(page=obj, **fields)
        else:
            created = services.page_create(name=obj.name, time_zone=obj.time_zone, url=obj.url)
            page_services.page_update(
                page=created,
                support_url=obj.support_url,
                accent_colour=obj.accent_colour,
                default_language=obj.default_language,
            )
            _adopt(obj, created)
        access = {"visibility", "new_password", "allowed_domains"} & set(form.changed_data)
        if access:
            access_services.page_set_access(
                page=obj,
                visibility=form.cleaned_data["visibility"],
                password=form.cleaned_data.get("new_password") or None,
                allowed_domains=form.cleaned_data.get("allowed_domains", ""),
            )
        if getattr(form, "logo_bytes", None):
            page_services.page_set_logo(page=obj, data=form.logo_bytes)
        elif form.cleaned_data.get("remove_logo"):
            page_services.page_set_logo(page=obj, data=None)


@admin.register(ComponentGroup)
class ComponentGroupAdmin(PageScopedAdmin, admin.ModelAdmin):
    list_display = ("name", "page", "position")
    list_editable = ("position",)
    list_filter = ("page",)
    fields = ("page", "name", "description", "position")

    def get_readonly_fields(self, request, obj=None):
        return ("page",) if obj else ()

    def save_model(self, request, obj, form, change):
        if change:
            fields = {n: form.cleaned_data[n] for n in form.changed_data if n in page_services.GROUP_FIELDS}
            page_services.component_group_update(group=obj, **fields)
        else:
            created = services.component_group_create(
                page=obj.page, name=obj.name, description=obj.description, position=obj.position
            )
            _adopt(obj, created)

    def delete_model(self, request, obj):
        page_services.component_group_delete(group=obj)

    def delete_queryset(self, request, queryset):
        for group in queryset:
            page_services.component_group_delete(group=group)


class ComponentForm(forms.ModelForm):
    def clean(self):
        data = super().clean()
        page = data.get("page") or getattr(self.instance, "page", None)
        group = data.get("group")
        if group is not None and page is not None and group.page_id != page.pk:
            self.add_error("group", f"The group {group.name} belongs to another page ({group.page.name}).")
        return data


@admin.register(Component)
class ComponentAdmin(PageScopedAdmin, admin.ModelAdmin):
    form = ComponentForm
    list_display = ("name", "status", "group", "page", "position")  # the status early: in view on a phone
    list_display_links = ("name",)
    list_editable = ("status",)
    list_filter = ("page", "group", "status")
    list_select_related = ("page", "group")
    search_fields = ("name", "code")
    ordering = ("page", "group__position", "position", "id")
    fields = (
        "page", "group", "name", "description", "status", "position", "showcase", "only_show_if_degraded", "start_date",
    )  # fmt: skip

    def get_readonly_fields(self, request, obj=None):
        if not request.user.has_perm(COMPONENT_DETAILS, obj):  # on the component's page (any of theirs: a new one)
            # Without it (responders), the status only; the list lets them change it in place (pick, then Save).
            # The manage API asks for the same permission.
            return tuple(f for f in self.fields if f != "status")
        return ("page",) if obj else ()

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "group":
            kwargs["queryset"] = ComponentGroup.objects.select_related("page")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        if not change:
            created = services.component_create(
                page=obj.page, group=obj.group, name=obj.name, description=obj.description, status=obj.status,
                position=obj.position, showcase=obj.showcase, only_show_if_degraded=obj.only_show_if_degraded,
                start_date=obj.start_date,
            )  # fmt: skip
            _adopt(obj, created)
            return
        fields = {n: form.cleaned_data[n] for n in form.changed_data if n in page_services.COMPONENT_FIELDS}
        if fields:
            page_services.component_update(component=obj, **fields)
        if "status" in form.changed_data:
            services.component_set_status(component=obj, status=obj.status, author=request.user)

    def delete_model(self, request, obj):
        page_services.component_delete(component=obj)

    def delete_queryset(self, request, queryset):
        for component in queryset:
            page_services.component_delete(component=component)


@admin.register(ComponentStatusChange)
class ComponentStatusChangeAdmin(PageScopedAdmin, admin.ModelAdmin):
    """The status history, read-only: the uptime is computed from it."""

    page_path = "component__page"
    list_display = ("changed_at", "component", "old_status", "new_status", "incident", "author")
    list_filter = ("component__page", "new_status")
    list_select_related = ("component", "incident", "author")
    date_hierarchy = "changed_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
