"""The responder's incident screens: the list, declare, the timeline with "Post update".

The edits of an incident's details, its postmortem and one update are in incidents/admin/incident_views.py."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Case, IntegerField, Value, When
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from incidents import services
from incidents.admin.forms import (
    DeclareForm,
    IncidentDetailsForm,
    MaintenanceForm,
    PostmortemForm,
    PostUpdateForm,
    apply_service_errors,
    is_duplicate,
)
from incidents.admin.incident_views import IncidentEditViews
from incidents.admin.scope import PageScopedAdmin, scoped
from incidents.choices import UNRESOLVED_STATUSES, IncidentStatus
from incidents.markup import render_markdown
from incidents.metrics import incident_metrics
from incidents.models import Incident, IncidentTemplate, Page
from incidents.presentation import format_posted
from incidents.selectors import label_updates
from incidents.services.maintenance import maintenance_create


@admin.register(Incident)
class IncidentAdmin(IncidentEditViews, PageScopedAdmin, admin.ModelAdmin):
    # What a responder scans for first (impact, time since the last update) comes first: on a phone the
    # rows wrap into cards (admin-incidents.css), and the labels inside the cells stand in for the header.
    list_display = ("name", "impact_label", "since_last_update", "stage", "page", "last_update")
    list_filter = ("page", "status", "impact")
    search_fields = ("name", "code", "updates__body")
    list_per_page = 50
    show_full_result_count = False

    # -- the list -----------------------------------------------------------------------------------------

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("page").order_by(*self.get_ordering(request))

    def get_ordering(self, request):
        # An expression, not an annotation: other admins order their incident choices with it too.
        open_first = Case(
            When(status__in=UNRESOLVED_STATUSES, then=Value(0)), default=Value(1), output_field=IntegerField()
        )
        return (open_first.asc(), "-last_update_at", "-id")

    @admin.display(description="Stage", ordering="status")
    def stage(self, obj):
        return obj.get_status_display()

    @admin.display(description="Impact", ordering="impact")
    def impact_label(self, obj):
        return format_html(
            '<span class="sp-cell-label">{} </span><span class="sp-impact sp-impact-{}">{}</span>',
            "Impact:",
            obj.impact,
            obj.get_impact_display(),
        )

    @admin.display(description="Latest update", ordering="last_update_at")
    def last_update(self, obj):
        return format_posted(obj.last_update_at, obj.page.tz)

    @admin.display(description="Since update")
    def since_last_update(self, obj):
        if not obj.is_open:
            return format_html('<span class="sp-closed">—</span>')
        now = timezone.now()
        minutes = int((now - obj.last_update_at).total_seconds() // 60)
        label = format_html('<span class="sp-cell-label">{} </span>', "Last update:")
        if obj.is_overdue(now):
            late = int((now - obj.next_update_at).total_seconds() // 60)
            return format_html(
                '{}<span class="minutes stale">{} min ago · update overdue by {} min</span>', label, minutes, late
            )
        stale = " stale" if minutes >= 30 else ""
        return format_html('{}<span class="minutes{}">{} min ago</span>', label, stale, minutes)

    # -- routes ---------------------------------------------------------------------------------------------

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("maintenance/add/", view(self.schedule_view), name="incidents_incident_schedule"),
            path("<int:pk>/postmortem/", view(self.postmortem_view), name="incidents_incident_postmortem"),
            path("<int:pk>/details/", view(self.details_view), name="incidents_incident_details"),
            path("update/<int:pk>/edit/", view(self.edit_update_view), name="incidents_incident_edit_update"),
            path("update/<int:pk>/delete/", view(self.delete_update_view), name="incidents_incident_delete_update"),
        ] + super().get_urls()

    def _context(self, request, title, **extra):
        return {**self.admin_site.each_context(request), "opts": self.model._meta, "title": title, **extra}

    def _template(self, request, target):
        """Prefill from ?template=<code> when that template belongs to the page."""
        code = request.GET.get("template")
        if code:
            return IncidentTemplate.objects.filter(page=target, code=code).first()
        return None

    # -- declare ----------------------------------------------------------------------------------------------

    def _chosen_page(self, request):
        """The page from ?page=<code>, or the only one; None asks the responder to choose (among the pages where
        they may declare)."""
        pages = list(scoped(request, Page.objects.all(), "pk", "incidents.add_incident"))
        page = next((p for p in pages if p.code == request.GET.get("page")), None)
        if page is None and len(pages) == 1:
            page = pages[0]
        return page, pages

    def _created(self, request, incident, verb):
        """Log it, say so, and open its page."""
        self.log_addition(request, incident, [{"added": {}}])
        messages.success(request, f"{verb} “{incident.name}”. It is on the public page now.")
        return HttpResponseRedirect(reverse("admin:incidents_incident_change", args=[incident.pk]))

    def _choose_page(self, request, pages, what):
        return TemplateResponse(
            request,
            "admin/incidents/incident/choose_page.html",
            self._context(request, f"{what}: which page?", pages=pages),
        )

    def add_view(self, request, form_url="", extra_context=None):
        if not self.has_add_permission(request):
            raise PermissionDenied
        page, pages = self._chosen_page(request)
        if page is None:
            return self._choose_page(request, pages, "Declare an incident")
        form = DeclareForm(page, request.POST or None)
        template = self._template(request, page)
        if template and request.method == "GET":
            form.prefill(template)  # with the template's component statuses
        preview = None
        if request.method == "POST" and form.is_valid():
            if "_preview" in request.POST:
                preview = render_markdown(form.cleaned_data["body"])
            else:
                try:
                    incident = services.incident_create(
                        page=page,
                        name=form.cleaned_data["name"],
                        status=form.cleaned_data["status"],
                        body=form.cleaned_data["body"],
                        components=form.component_changes(),
                        impact_override=form.cleaned_data["impact_override"] or None,
                        author=request.user,
                        deliver_notifications=form.cleaned_data["deliver_notifications"],
                        next_update_in=form.cleaned_data["next_update_in"],
                    )
                except ValidationError as error:
                    apply_service_errors(form, error)
                else:
                    return self._created(request, incident, "Declared")
        return TemplateResponse(
            request,
            "admin/incidents/incident/declare.html",
            self._context(
                request,
                f"Declare an incident on {page.name}",
                form=form,
                page=page,
                preview=preview,
                templates=IncidentTemplate.objects.filter(page=page),
            ),
        )

    def schedule_view(self, request):
        if not self.has_add_permission(request):
            raise PermissionDenied
        page, pages = self._chosen_page(request)
        if page is None:
            return self._choose_page(request, pages, "Schedule a maintenance")
        with timezone.override(page.tz):
            form = MaintenanceForm(page, request.POST or None)
            if request.method == "POST" and form.is_valid():
                data = form.cleaned_data
                try:
                    maintenance = maintenance_create(
                        page=page, name=data["name"], body=data["body"], scheduled_for=data["scheduled_for"],
                        scheduled_until=data["scheduled_until"], components=list(data["components"]),
                        auto_in_progress=data["auto_in_progress"], auto_completed=data["auto_completed"],
                        remind_prior=data["remind_prior"], author=request.user,
                        deliver_notifications=data["deliver_notifications"], long_window=data["long_window"],
                    )  # fmt: skip
                except ValidationError as error:
                    apply_service_errors(form, error)
                else:
                    return self._created(request, maintenance, "Scheduled")
            return TemplateResponse(
                request,
                "admin/incidents/incident/schedule.html",
                self._context(request, f"Schedule a maintenance on {page.name}", form=form, page=page),
            )

    # -- the incident: timeline and "Post update" ---------------------------------------------------------------

    def change_view(self, request, object_id, form_url="", extra_context=None):
        incident = get_object_or_404(self.get_queryset(request), pk=object_id)
        if not self.has_view_or_change_permission(request, incident):
            raise PermissionDenied
        can_change = self.has_change_permission(request, incident)
        form = PostUpdateForm(incident, request.POST or None)
        if incident.status == IncidentStatus.POSTMORTEM:
            # Its one postmortem is edited in its own section: a later message goes out as "Resolved".
            form.fields["status"].choices = [c for c in form.fields["status"].choices if c[0] != incident.status]
            form.fields["status"].initial = IncidentStatus.RESOLVED
        template = self._template(request, incident.page)
        if template and request.method == "GET":
            form.prefill(template)
        preview = duplicate = None
        if request.method == "POST":
            if not can_change:
                raise PermissionDenied
            if form.is_valid():
                body = form.cleaned_data["body"]
                if "_preview" in request.POST:
                    preview = render_markdown(body)
                else:
                    try:
                        update = services.incident_post_update(
                            incident=incident,
                            status=form.cleaned_data["status"],
                            body=body,
                            components=form.component_changes(),
                            author=request.user,
                            deliver_notifications=form.cleaned_data["deliver_notifications"],
                            next_update_in=form.cleaned_data["next_update_in"],
                            refuse_duplicate=not form.cleaned_data["confirm_duplicate"],
                            # Resolving here sets the affected components back to operational, unless chosen.
                            operational_on_resolve=True,
                        )
                    except ValidationError as error:
                        if is_duplicate(error):
                            duplicate = True  # ask; the form now carries the confirmation
                            form.data = form.data.copy()
                            form.data["confirm_duplicate"] = "on"
                        else:
                            apply_service_errors(form, error)
                    else:
                        self.log_change(request, incident, f"Posted a {update.get_status_display()} update.")
                        messages.success(request, "Update posted. It is on the public page now.")
                        return HttpResponseRedirect(request.path)
        updates = list(incident.updates.select_related("author").order_by("display_at", "id"))
        now = timezone.now()
        metrics = incident_metrics(incident, updates, now)
        label_updates(updates)
        published = next((u for u in reversed(updates) if u.status == IncidentStatus.POSTMORTEM), None)
        draft = incident.postmortem or (published.body if published else "")  # the published text, to edit
        updates.reverse()
        return TemplateResponse(
            request,
            "admin/incidents/incident/detail.html",
            self._context(
                request,
                incident.name,
                incident=incident,
                original=incident,
                page=incident.page,
                updates=updates,
                form=form,
                preview=preview,
                duplicate=duplicate,
                can_change=can_change,
                overdue=incident.is_overdue(now),
                metrics=metrics,
                published_postmortem=published,
                draft_differs=published is not None and draft.strip() != published.body.strip(),
                # Its section opens once the incident is resolved (a postmortem cannot be published before).
                postmortem_open=incident.status in (IncidentStatus.RESOLVED, IncidentStatus.POSTMORTEM),
                can_edit_updates=request.user.has_perm("incidents.change_incidentupdate", incident),
                can_delete_updates=request.user.has_perm("incidents.delete_incidentupdate", incident),
                can_delete=self.has_delete_permission(request, incident),
                details_form=IncidentDetailsForm(
                    initial={"name": incident.name, "impact_override": incident.impact_override}
                ),
                postmortem_form=PostmortemForm(
                    initial={"postmortem": draft, "deliver_notifications": incident.postmortem_notify}
                ),
                templates=IncidentTemplate.objects.filter(page=incident.page),
                public_url=incident.page.public_url("incident", code=incident.code),
            ),
        )

    def delete_model(self, request, obj):
        services.incident_delete(incident=obj)

    def delete_queryset(self, request, queryset):
        for incident in queryset:
            services.incident_delete(incident=incident)
