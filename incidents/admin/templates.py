"""Incident templates: a prepared incident, with the components of its page it concerns and their statuses."""

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError

from incidents import validation
from incidents.admin.scope import PageScopedAdmin, scoped
from incidents.models import Component, IncidentTemplate, IncidentTemplateComponent


class IncidentTemplateForm(forms.ModelForm):
    """The same bounds as the services: one-line name and title, a message of at most 20,000 characters."""

    class Meta:
        model = IncidentTemplate
        fields = ["page", "name", "title", "body", "update_status", "should_send_notifications"]
        widgets = {"body": forms.Textarea(attrs={"rows": 8, "maxlength": validation.MAX_TEXT})}

    def clean_name(self):
        return self._text("name", 100)

    def clean_title(self):
        return self._text("title", 200)

    def clean_body(self):
        return self._text("body")

    def _text(self, field, max_length=None):
        try:
            return validation.require_text(self.cleaned_data.get(field), field, max_length)
        except ValidationError as error:
            raise ValidationError(error.message_dict[field]) from None


class TemplateComponentsFormSet(forms.BaseInlineFormSet):
    """Only components of the template's page (the model's clean says so on the row)."""

    def clean(self):
        super().clean()
        chosen = [
            f.cleaned_data.get("component") for f in self.forms if f.cleaned_data and not f.cleaned_data.get("DELETE")
        ]
        chosen = [c for c in chosen if c is not None]
        if len({c.pk for c in chosen}) < len(chosen):
            raise ValidationError("Each component can be listed once.")


class TemplateComponentInline(admin.TabularInline):
    model = IncidentTemplateComponent
    formset = TemplateComponentsFormSet
    fields = ("component", "status")
    extra = 1
    verbose_name = "component"
    verbose_name_plural = "Components and the status the template sets"

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        components = Component.objects.select_related("page", "group").order_by("page__name", "position", "id")
        components = scoped(
            request, components, "page", "incidents.add_incidenttemplate", "incidents.change_incidenttemplate"
        )
        if obj is not None:
            components = components.filter(page=obj.page)
        formset.form.base_fields["component"].queryset = components
        formset.form.base_fields["component"].label_from_instance = lambda c: (
            c.name if obj is not None else f"{c.page.name}: {c.name}"
        )
        return formset


@admin.register(IncidentTemplate)
class IncidentTemplateAdmin(PageScopedAdmin, admin.ModelAdmin):
    form = IncidentTemplateForm
    list_display = ("name", "page", "title", "update_status")
    list_filter = ("page",)
    search_fields = ("name", "title", "body")
    inlines = [TemplateComponentInline]
