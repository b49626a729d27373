"""The public subscribe form: an address, and either an open incident or a choice of components.

It never widens a choice silently: a ticked component or group means "only these", whatever the radio
says, and "only these" with nothing ticked is an error that says so (the answer keeps what was typed).
"""

from django import forms
from django.utils.translation import gettext_lazy as _

from incidents.models import Component, ComponentGroup, Incident
from incidents.selectors import page_layout

ALL, CHOSEN = "all", "chosen"
NOTHING_TICKED = _("You chose “Only these” but ticked none. Tick at least one component, or choose “All components”.")


class SubscribeForm(forms.Form):
    email = forms.EmailField(
        max_length=254,
        error_messages={
            "required": _("Enter the email address to send updates to."),
            "invalid": _("That does not look like an email address."),
        },
    )
    # A webhook: Statuspage's JSON posted to this URL; the email confirms it and hears of its failures.
    endpoint = forms.URLField(
        required=False,
        max_length=500,
        assume_scheme="https",
        error_messages={"invalid": _("That does not look like a web address (https://…).")},
    )
    scope = forms.ChoiceField(choices=[(ALL, _("All components")), (CHOSEN, _("Only these"))], required=False)
    components = forms.MultipleChoiceField(required=False)
    groups = forms.MultipleChoiceField(required=False)
    incident = forms.CharField(required=False, max_length=32)

    def __init__(self, page, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.page = page
        rows, components = page_layout(page)
        self.fields["components"].choices = [(c.code, c.name) for c in components]
        self.fields["groups"].choices = [(row.group.code, row.group.name) for row in rows if row.group]

    def clean_endpoint(self) -> str:
        endpoint = self.cleaned_data.get("endpoint") or ""
        if endpoint and not self.page.is_public:
            # A webhook gets whole updates, to whoever holds the URL: on a page not open to everyone, only
            # its administrators add them (in the admin or the manage API), never a visitor.
            raise forms.ValidationError(_("On this page, webhooks are added by its administrators."))
        return endpoint

    def clean_email(self) -> str:
        from notifications.services import normalise_email

        return normalise_email(self.cleaned_data["email"])

    def clean(self):
        data = super().clean()
        data["incident"] = self._incident(data.get("incident"))
        if data["incident"] is not None or self.data.get("incident"):
            data["components"], data["groups"] = [], []
            return data
        ticked = bool(data.get("components") or data.get("groups"))
        if ticked:
            data["scope"] = CHOSEN  # ticking a component is choosing "only these"
        elif data.get("scope") == CHOSEN and not self.has_error("components") and not self.has_error("groups"):
            self.add_error("components", NOTHING_TICKED)
        return data

    def _incident(self, code):
        if not code:
            return None
        return Incident.objects.filter(page=self.page, code=code).first()

    def chosen(self) -> tuple[list[Component], list[ComponentGroup]]:
        """The components and groups to subscribe to; both empty means all components."""
        data = self.cleaned_data
        if data.get("scope") != CHOSEN:
            return [], []
        components = list(Component.objects.filter(page=self.page, code__in=data["components"]))
        groups = list(ComponentGroup.objects.filter(page=self.page, code__in=data["groups"]))
        return components, groups

    def error_list(self) -> list[str]:
        return [str(message) for messages in self.errors.values() for message in messages]
