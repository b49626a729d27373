"""API keys in the admin: create one (the key is shown once, in a message) and revoke them.

Who may: Django's model permissions of ApiKey (held by page admins on their pages). A page admin mints keys for
themselves only, on pages they are a member of; they see their own keys and the keys that reach a page they
administer (to revoke them). A superuser sees every key and mints keys for anyone."""

from django import forms
from django.contrib import admin, messages
from django.db.models import Q

from accounts.models import ApiKey
from accounts.roles import admin_pages_of, pages_of
from accounts.services import api_key_issue
from incidents.admin.scope import NotFoundOutsideQueryset
from incidents.models import Page


class ApiKeyForm(forms.ModelForm):
    owner = None  # the signed-in user, for a page admin (who mints keys for themselves only)

    class Meta:
        model = ApiKey
        fields = ["user", "name", "pages", "read_only"]

    def clean(self):
        data = super().clean()
        user, pages = data.get("user") or self.owner, data.get("pages")
        if self.instance.pk is None and user is not None and pages:
            outside = pages.exclude(pk__in=pages_of(user))
            if outside:
                self.add_error("pages", f"{user} is not a member of {', '.join(map(str, outside))}.")
        return data


@admin.register(ApiKey)
class ApiKeyAdmin(NotFoundOutsideQueryset, admin.ModelAdmin):
    form = ApiKeyForm
    list_display = ["prefix", "name", "user", "read_only", "created_at", "last_used_at", "revoked_at"]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter), "read_only"]
    search_fields = ["name", "prefix", "user__username"]
    readonly_fields = ["prefix", "created_at", "last_used_at", "revoked_at"]
    filter_horizontal = ["pages"]
    actions = ["revoke"]

    def get_queryset(self, request):
        keys = super().get_queryset(request)
        if request.user.is_superuser:
            return keys
        # Their own keys, and keys that reach only pages they administer: a key that also reaches another page
        # is that page's business too (its name, its revocation), so it is not theirs to see.
        mine = admin_pages_of(request.user)
        elsewhere = ApiKey.objects.filter(pages__in=Page.objects.exclude(pk__in=mine)).values("pk")
        return keys.filter(Q(user=request.user) | (Q(pages__in=mine) & ~Q(pk__in=elsewhere))).distinct()

    def get_fields(self, request, obj=None):
        if obj is None:
            fields = ["name", "pages", "read_only"]
            return ["user", *fields] if request.user.is_superuser else fields
        return ["user", "name", "pages", "read_only", "prefix", "created_at", "last_used_at", "revoked_at"]

    # Only the name of an existing key can change (change permission); its owner, pages and kind never.
    def has_delete_permission(self, request, obj=None):
        return False  # revoke instead, so the key's history stays

    def get_readonly_fields(self, request, obj=None):
        if obj is not None:
            return [*self.readonly_fields, "user", "pages", "read_only"]
        return self.readonly_fields

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "pages":
            kwargs["queryset"] = pages_of(request.user)
            kwargs.setdefault("help_text", "The pages this key may reach (you must be a member of each).")
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        return type(form.__name__, (form,), {"owner": None if request.user.is_superuser else request.user})

    def save_form(self, request, form, change):
        if not change and form.owner is not None:
            form.instance.user = form.owner  # for themselves only
        return super().save_form(request, form, change)

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        data = form.cleaned_data  # the pages were checked by the form
        row, key = api_key_issue(
            user=obj.user, name=data["name"], pages=list(data["pages"]), read_only=data["read_only"]
        )
        obj.pk = row.pk
        messages.warning(
            request, f"The new API key is {key} (copy it now: it is stored hashed and cannot be shown again)."
        )

    def save_related(self, request, form, formsets, change):
        if change:
            super().save_related(request, form, formsets, change)  # the pages were set by api_key_issue on add

    @admin.action(description="Revoke the selected API keys")
    def revoke(self, request, queryset):
        count = sum(key.revoke() for key in queryset.filter(revoked_at__isnull=True))
        self.message_user(request, f"Revoked {count} API key(s).", messages.SUCCESS)
