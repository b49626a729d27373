"""Admin: subscribers by page (search, filters, CSV import and export, delete) and delivery progress."""

import csv

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import ngettext

from incidents.admin.scope import PageScopedAdmin, scoped
from incidents.choices import UNRESOLVED_STATUSES
from incidents.models import Page
from notifications import imports, services
from notifications.endpoints import EndpointRefused, resolve
from notifications.models import (
    Delivery,
    DeliveryStatus,
    Notification,
    Subscriber,
    SubscriberChannel,
    SubscriberImport,
    SubscriberState,
)
from notifications.webhook_payloads import new_secret

MAX_UPLOAD_BYTES = 5 * 2**20
CSV_FIELDS = ["email", "page", "state", "scope", "components", "groups", "created_at", "confirmed_at", "quarantined_at"]


def scope_of(subscriber: Subscriber) -> str:
    if subscriber.incident_id:
        return f"incident {subscriber.incident.code}"
    return "all components" if subscriber.all_components else "chosen components"


class CsvImportForm(forms.Form):
    page = forms.ModelChoiceField(queryset=Page.objects.all())
    file = forms.FileField(help_text="A CSV file with one address per line, or a column named 'email'.")
    active_at_once = forms.BooleanField(
        required=False,
        initial=True,
        label="Active at once",
        help_text="They already agreed to hear from you: no confirmation email. "
        "Untick to send each address a confirmation link instead.",
    )


class SubscriberForm(forms.ModelForm):
    """The components and groups are saved by notifications.services, which refuses another page's."""

    def clean(self):
        data = super().clean()
        channel = data.get("channel") or self.instance.channel
        if channel == SubscriberChannel.EMAIL and not data.get("email") and "email" in self.fields:
            self.add_error("email", "An email subscriber needs an address.")
        if channel != SubscriberChannel.EMAIL and "endpoint" in self.fields:
            if not data.get("endpoint"):
                self.add_error("endpoint", "A webhook, Slack, Teams or Discord subscriber needs its URL.")
            elif data["endpoint"] != self.initial.get("endpoint"):
                try:
                    resolve(data["endpoint"])  # the SSRF guard, before anything is saved
                except EndpointRefused as error:
                    self.add_error("endpoint", str(error))
        page = data.get("page") or (self.instance.page if self.instance.page_id else None)
        if page is not None:
            for name in ("components", "groups"):
                try:
                    services.check_scope(page.pk, data.get(name) or (), ())
                except ValidationError as error:
                    self.add_error(name, error)
        return data


@admin.register(Subscriber)
class SubscriberAdmin(PageScopedAdmin, admin.ModelAdmin):
    form = SubscriberForm
    list_display = ["__str__", "channel", "page", "scope", "state", "created_at", "confirmed_at", "quarantined_at"]
    list_filter = ["channel", "state", "page", "all_components"]
    search_fields = ["email", "endpoint"]
    list_select_related = ["page", "incident"]
    readonly_fields = ["code", "confirmed_at", "confirmation_sent_at", "quarantined_at", "quarantine_reason"]
    filter_horizontal = ["components", "groups"]
    # Not raw_id_fields: its widget labels any incident id typed into the address, of any page.
    actions = ["export_csv", "release_from_quarantine"]
    change_list_template = "admin/notifications/subscriber/change_list.html"

    @admin.display(description="Scope")
    def scope(self, obj):
        return scope_of(obj)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)  # the user's pages only
        if db_field.name == "incident" and field is not None:
            # One can follow an open incident; those already followed stay choosable on their subscribers.
            field.queryset = field.queryset.filter(
                Q(status__in=UNRESOLVED_STATUSES) | Q(subscribers__isnull=False)
            ).distinct()
        return field

    def save_model(self, request, obj, form, change):
        """A page admin's endpoint subscriber is active at once; a new webhook's signing secret is shown now only."""
        new_webhook = not change and obj.channel == SubscriberChannel.WEBHOOK
        if not change and obj.channel != SubscriberChannel.EMAIL:
            obj.state, obj.confirmed_at = SubscriberState.CONFIRMED, timezone.now()
        if new_webhook:
            obj.signing_secret = new_secret()
        super().save_model(request, obj, form, change)
        if new_webhook:
            self.message_user(
                request,
                f"The webhook's signing secret, shown only now (copy it to the receiver): {obj.signing_secret}",
                messages.WARNING,
            )

    def save_related(self, request, form, formsets, change):
        # Not form.save_m2m(): the scope goes through the service (its page check, all_components with it).
        subscriber, data = form.instance, form.cleaned_data
        services.subscriber_set_components(
            subscriber=subscriber,
            components=data["components"] if "components" in data else subscriber.components.all(),
            groups=data["groups"] if "groups" in data else subscriber.groups.all(),
        )
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    @admin.action(description="Export selected subscribers as CSV")
    def export_csv(self, request, queryset):
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="subscribers.csv"'
        writer = csv.writer(response)
        writer.writerow(CSV_FIELDS)
        rows = queryset.select_related("page", "incident").prefetch_related("components", "groups")
        for s in rows.iterator(chunk_size=1000):
            writer.writerow(
                [
                    s.email,
                    s.page.code,
                    s.state,
                    scope_of(s),
                    " ".join(c.code for c in s.components.all()),
                    " ".join(g.code for g in s.groups.all()),
                    s.created_at.isoformat(),
                    s.confirmed_at.isoformat() if s.confirmed_at else "",
                    s.quarantined_at.isoformat() if s.quarantined_at else "",
                ]
            )
        return response

    @admin.action(description="Release from quarantine (send again)")
    def release_from_quarantine(self, request, queryset):
        count = queryset.filter(state="quarantined").update(
            state="confirmed", quarantined_at=None, quarantine_reason="", failures=0, failing_since=None
        )
        self.message_user(
            request,
            ngettext(
                "%(count)d subscriber released from quarantine.",
                "%(count)d subscribers released from quarantine.",
                count,
            )
            % {"count": count},
        )

    def get_urls(self):
        return [
            path("import/", self.admin_site.admin_view(self.import_csv), name="notifications_subscriber_import"),
            *super().get_urls(),
        ]

    def import_csv(self, request):
        if not self.has_add_permission(request):
            return redirect("admin:notifications_subscriber_changelist")
        form = CsvImportForm(request.POST or None, request.FILES or None)
        form.fields["page"].queryset = scoped(request, Page.objects.all(), "pk", "notifications.add_subscriber")
        if request.method == "POST" and form.is_valid():
            page, at_once = form.cleaned_data["page"], form.cleaned_data["active_at_once"]
            upload = form.cleaned_data["file"]
            if upload.size > MAX_UPLOAD_BYTES:
                form.add_error("file", f"The file is larger than {MAX_UPLOAD_BYTES // 2**20} MB. Split it.")
            else:
                try:
                    job = imports.start_import(page=page, data=upload.read(), active_at_once=at_once)
                except ValidationError as exc:
                    form.add_error("file", exc)
                else:
                    return self._import_started(request, job)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "form": form,
            "title": "Import subscribers from CSV",
        }
        return render(request, "admin/notifications/subscriber/import.html", context)

    def _import_started(self, request, job):
        verb = "subscribed" if job.active_at_once else "sent a confirmation link (unless already subscribed)"
        count = job.total
        addresses = ngettext("%(count)d address", "%(count)d addresses", count) % {"count": count}
        self.message_user(
            request, f"Importing {addresses} on {job.page}: each will be {verb}. Progress is shown under Imports."
        )
        if job.invalid_lines:
            invalid = job.invalid_lines
            shown = "; ".join(invalid[:10])
            lines = ngettext("%(count)d line", "%(count)d lines", len(invalid)) % {"count": len(invalid)}
            self.message_user(request, f"{lines} skipped, not an address: {shown}", messages.WARNING)
        return redirect("admin:notifications_subscriberimport_change", job.pk)


def _progress(status):
    return Count("deliveries", filter=Q(deliveries__status=status))


@admin.register(Notification)
class NotificationAdmin(PageScopedAdmin, admin.ModelAdmin):
    """One row per update sent with "notify": its delivery progress, and "retry failed"."""

    list_display = ["update_title", "page", "created_at", "fanned_out_at", "queued", "sending", "sent", "failed"]
    list_filter = ["page"]
    search_fields = ["update__incident__name"]
    list_select_related = ["update__incident", "page"]
    actions = ["retry_failed"]
    readonly_fields = [
        "update",
        "component_change",
        "page",
        "include_incident_subscribers",
        "created_at",
        "enqueued_at",
        "fanned_out_at",
    ]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                n_queued=_progress(DeliveryStatus.QUEUED),
                n_sending=_progress(DeliveryStatus.SENDING),
                n_sent=_progress(DeliveryStatus.SENT),
                n_failed=_progress(DeliveryStatus.FAILED),
            )
        )

    def has_add_permission(self, request):
        return False

    @admin.display(description="Update")
    def update_title(self, obj):
        if obj.update_id is None:  # a component event (webhooks)
            return f"Component status change {obj.component_change_id}"
        return f"{obj.update.incident.name}: {obj.update.get_status_display()} ({obj.update.display_at:%Y-%m-%d %H:%M})"

    @admin.display(description="Queued", ordering="n_queued")
    def queued(self, obj):
        return obj.n_queued

    @admin.display(description="Sending", ordering="n_sending")
    def sending(self, obj):
        return obj.n_sending

    @admin.display(description="Sent", ordering="n_sent")
    def sent(self, obj):
        return obj.n_sent

    @admin.display(description="Failed", ordering="n_failed")
    def failed(self, obj):
        if not obj.n_failed:
            return 0
        url = reverse("admin:notifications_delivery_changelist")
        return format_html(
            '<a href="{}?notification__id__exact={}&status__exact=failed">{}</a>', url, obj.pk, obj.n_failed
        )

    @admin.action(description="Retry failed deliveries")
    def retry_failed(self, request, queryset):
        count = services.retry_failed(queryset.values_list("pk", flat=True))
        self.message_user(request, f"{count} failed deliveries queued again (quarantined subscribers excluded).")


@admin.register(Delivery)
class DeliveryAdmin(PageScopedAdmin, admin.ModelAdmin):
    page_path = "notification__page"

    list_display = ["subscriber", "notification", "status", "attempts", "sent_at", "last_error"]
    list_filter = ["status", "notification"]
    search_fields = ["subscriber__email"]
    list_select_related = ["subscriber", "notification"]
    readonly_fields = [f.name for f in Delivery._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(SubscriberImport)
class SubscriberImportAdmin(PageScopedAdmin, admin.ModelAdmin):
    """The CSV imports: how far each has got, and how it ended."""

    list_display = ["created_at", "page", "status", "progress", "invalid", "finished_at"]
    list_filter = ["status", "page"]
    fields = ["page", "status", "progress", "invalid", "active_at_once", "error", "created_at", "finished_at"]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="Progress")
    def progress(self, obj):
        return f"{obj.done} of {obj.total}"

    @admin.display(description="Lines skipped")
    def invalid(self, obj):
        return len(obj.invalid_lines)
