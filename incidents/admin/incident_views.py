"""The incident admin's own views for edits: the name and impact, the postmortem, one update (edit, delete).

A mixin of IncidentAdmin (incidents/admin/incidents.py), which routes to these views. Every write goes
through the services; a refused one is a message or a form error and loses nothing.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone

from incidents import services
from incidents.admin.forms import EditUpdateForm, IncidentDetailsForm, PostmortemForm, apply_service_errors
from incidents.admin.scope import scoped
from incidents.markup import render_markdown
from incidents.models import IncidentUpdate


class IncidentEditViews:
    """Needs ModelAdmin's has_change_permission, get_queryset (the user's pages) and log_change, and
    IncidentAdmin's _context."""

    def details_view(self, request, pk):
        incident = get_object_or_404(self.get_queryset(request), pk=pk)
        if request.method != "POST" or not self.has_change_permission(request, incident):
            raise PermissionDenied
        form = IncidentDetailsForm(request.POST)
        if form.is_valid():
            try:
                services.incident_edit(incident=incident, **form.cleaned_data)
            except ValidationError as error:
                messages.error(request, " ".join(error.messages))
            else:
                self.log_change(request, incident, "Changed the name or impact.")
                messages.success(request, "Saved.")
        else:
            messages.error(request, "The name must not be empty.")
        return HttpResponseRedirect(reverse("admin:incidents_incident_change", args=[pk]))

    def postmortem_view(self, request, pk):
        incident = get_object_or_404(self.get_queryset(request), pk=pk)
        if request.method != "POST" or not self.has_change_permission(request, incident):
            raise PermissionDenied
        form = PostmortemForm(request.POST)
        form.is_valid()
        body = form.cleaned_data.get("postmortem", "")
        notify = form.cleaned_data.get("deliver_notifications", False)
        if "_publish" in request.POST:
            published = services.published_postmortem(incident)
            try:
                update = services.incident_postmortem_publish(
                    incident=incident, body=body, author=request.user, deliver_notifications=notify
                )
            except ValidationError as error:
                try:
                    services.incident_postmortem_save(incident=incident, body=body, notify=notify)
                except ValidationError:
                    messages.error(request, " ".join(error.messages) + " The draft was not saved.")
                else:
                    messages.error(request, " ".join(error.messages) + " Your draft is saved.")
            else:
                if published is None:
                    self.log_change(request, incident, "Published the postmortem.")
                    messages.success(request, "Postmortem published.")
                else:
                    told = " Subscribers are notified." if notify else ""
                    self.log_change(request, incident, f"Edited update {update.code}: postmortem message.")
                    messages.success(request, "Postmortem changes published." + told)
        else:
            try:
                services.incident_postmortem_save(incident=incident, body=body, notify=notify)
            except ValidationError as error:
                messages.error(request, " ".join(error.messages) + " The draft was not saved.")
            else:
                self.log_change(request, incident, "Saved the postmortem draft.")
                messages.success(request, "Postmortem draft saved. It is not public until you publish it.")
        return HttpResponseRedirect(reverse("admin:incidents_incident_change", args=[pk]) + "#postmortem")

    # -- one update: edit, delete ------------------------------------------------------------------------------

    def _update(self, request, pk) -> IncidentUpdate:
        """The update if it is on one of the user's pages (else 404)."""
        updates = scoped(request, IncidentUpdate.objects.select_related("incident__page"), "incident__page")
        return get_object_or_404(updates, pk=pk)

    def edit_update_view(self, request, pk):
        update = self._update(request, pk)
        if not request.user.has_perm("incidents.change_incidentupdate", update):
            raise PermissionDenied
        incident, tz = update.incident, update.incident.page.tz
        with timezone.override(tz):
            form = EditUpdateForm(
                request.POST or None,
                initial={"body": update.body, "display_at": timezone.localtime(update.display_at, tz)},
            )
            if request.method == "POST" and form.is_valid():
                # The form shows minutes: an unchanged minute keeps the exact time (and the components' history).
                shown = timezone.localtime(update.display_at, tz).replace(second=0, microsecond=0)
                new_time = form.cleaned_data["display_at"]
                moved = new_time is not None and new_time != shown
                changed = (["body"] if form.cleaned_data["body"] != update.body else []) + (
                    ["display_at"] if moved else []
                )
                try:
                    services.incident_update_edit(
                        update=update, body=form.cleaned_data["body"], display_at=new_time if moved else None
                    )
                except ValidationError as error:
                    apply_service_errors(form, error)
                else:
                    what = (
                        " and ".join({"body": "message", "display_at": "display time"}[n] for n in changed) or "nothing"
                    )
                    self.log_change(request, incident, f"Edited update {update.code}: {what}.")
                    messages.success(request, "Update saved.")
                    return HttpResponseRedirect(reverse("admin:incidents_incident_change", args=[incident.pk]))
            return TemplateResponse(
                request,
                "admin/incidents/incident/edit_update.html",
                self._context(
                    request,
                    "Edit an update",
                    form=form,
                    update=update,
                    incident=incident,
                    time_zone=incident.page.time_zone,
                ),
            )

    def delete_update_view(self, request, pk):
        update = self._update(request, pk)
        if not request.user.has_perm("incidents.delete_incidentupdate", update):
            raise PermissionDenied
        incident = update.incident
        if request.method == "POST":
            try:
                services.incident_update_delete(update=update)
            except ValidationError as error:
                messages.error(request, " ".join(error.messages))
            else:
                self.log_change(
                    request,
                    incident,
                    f"Deleted update {update.code} ({update.get_status_display()}): {update.body[:200]}",
                )
                messages.success(request, "Update deleted.")
            return HttpResponseRedirect(reverse("admin:incidents_incident_change", args=[incident.pk]))
        return TemplateResponse(
            request,
            "admin/incidents/incident/delete_update.html",
            self._context(
                request, "Delete an update?", update=update, incident=incident, body=render_markdown(update.body)
            ),
        )
