"""The responder's forms: declare an incident, post an update, edit an update, write the postmortem."""

from datetime import timedelta

from django import forms

from incidents import selectors
from incidents.choices import ComponentStatus, Impact, IncidentStatus, MaintenanceStatus
from incidents.models import Component, IncidentTemplate
from incidents.validation import MAX_TEXT

UNCHANGED = ""
COMPONENT_CHOICES = [(UNCHANGED, "Unchanged")] + list(ComponentStatus.choices)
OPEN_STAGES = [c for c in IncidentStatus.choices if c[0] != IncidentStatus.POSTMORTEM]
PROMISES = [("", "No promise"), ("15", "15 minutes"), ("30", "30 minutes"), ("60", "1 hour"), ("120", "2 hours"),
            ("240", "4 hours"), ("1440", "1 day")]  # fmt: skip


def next_update_field():
    return forms.TypedChoiceField(
        choices=PROMISES,
        coerce=lambda minutes: timedelta(minutes=int(minutes)),
        empty_value=None,
        required=False,
        label="Next update in",
        help_text="Shown while the incident is open: “Next update expected by …”. Staff are reminded before it is due.",
    )


class ComponentChangesMixin:
    """One compact "new status" field per component of the page, grouped as on the public page."""

    def add_component_fields(self, page):
        self.page = page
        rows, self.components = selectors.page_layout(page)
        for component in self.components:
            self.fields[f"component_{component.code}"] = forms.ChoiceField(
                label=component.name,
                choices=COMPONENT_CHOICES,
                required=False,
                help_text=f"Now: {component.get_status_display()}",
            )
        self._component_rows = [
            (row.group.name, row.children) if row.group else (None, [row.component])
            for row in rows
            if row.group is None or row.children
        ]

    @property
    def component_rows(self):
        """[(group name or None, [(component, bound field), ...]), ...] in page order."""
        return [(name, [(c, self[f"component_{c.code}"]) for c in members]) for name, members in self._component_rows]

    def component_changes(self) -> dict[Component, str]:
        return {
            c: self.cleaned_data[f"component_{c.code}"]
            for c in self.components
            if self.cleaned_data.get(f"component_{c.code}")
        }


class DeclareForm(ComponentChangesMixin, forms.Form):
    name = forms.CharField(max_length=200, label="Incident name")
    status = forms.ChoiceField(choices=OPEN_STAGES, initial=IncidentStatus.INVESTIGATING, label="Stage")
    body = forms.CharField(
        max_length=MAX_TEXT, widget=forms.Textarea(attrs={"rows": 6}), label="Message", help_text="Markdown."
    )
    impact_override = forms.ChoiceField(
        choices=[("", "From the components")] + list(Impact.choices), required=False, label="Impact"
    )
    deliver_notifications = forms.BooleanField(initial=True, required=False, label="Notify subscribers")
    next_update_in = next_update_field()

    def __init__(self, page, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.add_component_fields(page)

    def prefill(self, template: IncidentTemplate):
        self.initial.update(
            name=template.title,
            body=template.body,
            status=template.update_status if template.update_status != IncidentStatus.POSTMORTEM else "investigating",
            deliver_notifications=template.should_send_notifications,
        )
        # The statuses the template sets; a component it names without one is preset to a partial outage.
        for component, status in template.component_statuses().items():
            self.initial[f"component_{component.code}"] = status or ComponentStatus.PARTIAL_OUTAGE


class PostUpdateForm(ComponentChangesMixin, forms.Form):
    status = forms.ChoiceField(choices=IncidentStatus.choices, label="Stage")
    body = forms.CharField(
        max_length=MAX_TEXT, widget=forms.Textarea(attrs={"rows": 5}), label="Message", help_text="Markdown."
    )
    deliver_notifications = forms.BooleanField(initial=True, required=False, label="Notify subscribers")
    next_update_in = next_update_field()
    confirm_duplicate = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def __init__(self, incident, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.incident = incident
        if incident.is_maintenance:
            self.fields["status"].choices = MaintenanceStatus.choices
        elif incident.is_open:
            self.fields["status"].choices = OPEN_STAGES  # a postmortem follows the resolution
        self.fields["status"].initial = incident.status
        self.add_component_fields(incident.page)

    def prefill(self, template: IncidentTemplate):
        self.initial.update(body=template.body, deliver_notifications=template.should_send_notifications)
        if template.update_status:
            self.initial["status"] = template.update_status
        for component, status in template.component_statuses().items():
            if status:  # only the statuses the template sets; the others stay "Unchanged"
                self.initial[f"component_{component.code}"] = status

    @property
    def open_on_stages(self) -> list[str]:
        """The stages that change components by themselves: the component statuses open for them."""
        if self.incident.is_maintenance:
            return [MaintenanceStatus.IN_PROGRESS, MaintenanceStatus.COMPLETED]
        return [IncidentStatus.RESOLVED]

    @property
    def components_open(self) -> bool:
        """Show the component statuses open: a stage that changes them, or a status chosen, or an error."""
        fields = [self[f"component_{c.code}"] for c in self.components]
        chosen = any(field.value() or field.errors for field in fields)
        return chosen or self["status"].value() in self.open_on_stages


class IncidentDetailsForm(forms.Form):
    """On the incident's page beside "Post update": its own ids (details_name, …), never the other form's."""

    name = forms.CharField(max_length=200, label="Incident name")
    impact_override = forms.ChoiceField(
        choices=[("", "From the components")] + list(Impact.choices), required=False, label="Impact"
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "details_%s")
        super().__init__(*args, **kwargs)


def local_time_field(label: str) -> forms.DateTimeField:
    """A date and time in the page's zone (the view activates it), with the browser's own picker."""
    return forms.DateTimeField(
        label=label,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local", "step": 60}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"],
    )


class EditUpdateForm(forms.Form):
    body = forms.CharField(
        max_length=MAX_TEXT, widget=forms.Textarea(attrs={"rows": 8}), label="Message", help_text="Markdown."
    )
    display_at = local_time_field("Display time")


class PostmortemForm(forms.Form):
    postmortem = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 18, "maxlength": MAX_TEXT}), required=False, label="Postmortem"
    )
    # Its own id: the "Post update" form on the same page has a "Notify subscribers" box too.
    deliver_notifications = forms.BooleanField(
        initial=False,
        required=False,
        label="Notify subscribers",
        widget=forms.CheckboxInput(attrs={"id": "id_postmortem_notify"}),
        help_text="Kept with the draft; used when you publish.",
    )


def apply_service_errors(form: forms.Form, error) -> None:
    """Show a service's ValidationError on the form, on the matching field where there is one."""
    for field, messages in error.message_dict.items() if hasattr(error, "error_dict") else [(None, error.messages)]:
        target = field if field in form.fields else None
        for message in messages:
            form.add_error(target, message)


class MaintenanceForm(forms.Form):
    name = forms.CharField(max_length=200, label="Maintenance name")
    body = forms.CharField(
        max_length=MAX_TEXT, widget=forms.Textarea(attrs={"rows": 5}), label="Message", help_text="Markdown."
    )
    scheduled_for = local_time_field("Starts")
    scheduled_until = local_time_field("Ends")
    long_window = forms.BooleanField(
        required=False, label="This window is longer than 14 days", help_text="Tick to confirm a longer window."
    )
    components = forms.ModelMultipleChoiceField(
        queryset=Component.objects.none(), required=False, widget=forms.CheckboxSelectMultiple,
        help_text="They go under maintenance while it is in progress.",
    )  # fmt: skip
    auto_in_progress = forms.BooleanField(initial=True, required=False, label="Start it automatically on time")
    auto_completed = forms.BooleanField(initial=True, required=False, label="Complete it automatically on time")
    remind_prior = forms.BooleanField(initial=False, required=False, label="Remind subscribers 60 minutes before")
    deliver_notifications = forms.BooleanField(initial=True, required=False, label="Notify subscribers now")

    def __init__(self, page, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["components"].queryset = Component.objects.filter(page=page)
        # The choices in page order (the queryset only validates).
        self.fields["components"].choices = [(c.pk, c.name) for c in selectors.page_components(page)]


def is_duplicate(error) -> bool:
    """Is this the service's duplicate-guard refusal (to be confirmed rather than corrected)?"""
    return any(e.code == "duplicate" for e in getattr(error, "error_dict", {}).get("body", []))
