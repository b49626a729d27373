"""Writing an imported page here, through the domain services, keeping the source's ids (and creation times).

The services create each object with a fresh id; `keep_source_id` then gives it the source's (the public ids of both
sides have one format). Each incident is written in one transaction: one that the services refuse (bad or
partial data) is skipped whole, with the reason, and leaves nothing behind. A re-run finds every object by its
id: it updates what changed, adds what is new and never doubles anything; so it also resumes an interrupted run.
"""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.dateparse import parse_date

from api.errors import validation_message
from api.importer.records import Skip, claimed_elsewhere, keep_source_id, source_time
from api.importer.report import Report
from api.importer.source import Snapshot
from api.importer.subscribers import SubscriberWriter
from api.manage import DEFAULT_BODIES
from incidents import page_services, services
from incidents.choices import IncidentStatus, MaintenanceStatus
from incidents.models import Component, ComponentGroup, Incident, IncidentTemplate, IncidentUpdate, Page
from incidents.services.maintenance import maintenance_create
from incidents.uptime_rollups import rebuild_component_days


class Writer(SubscriberWriter):
    def __init__(self, snapshot: Snapshot, report: Report, *, public: bool = False):
        self.snapshot, self.report, self.public = snapshot, report, public
        self.page: Page | None = None
        self.components: dict[str, Component] = {}
        self.groups: dict[str, ComponentGroup] = {}

    def run(self) -> Page:
        self.report.notes += self.snapshot.notes
        self.import_page(self.snapshot.profile)
        self.import_groups()
        self.import_components()
        self.import_incidents()
        self.set_current_statuses()
        self.import_templates()
        self.import_subscribers()
        with transaction.atomic():
            # The ids and creation times set here bypass the services: one version bump covers them.
            services.page_changed(self.page.pk)
        return self.page

    # -- the page, groups and components ------------------------------------------------------------------

    def import_page(self, profile: dict) -> None:
        code = profile["id"]
        wanted = {"name": profile["name"], "time_zone": profile.get("time_zone") or "UTC"}
        if not self.public:  # API v2's `url` is the status page itself, not the company's website
            wanted.update({key: profile.get(key) or "" for key in ("url", "support_url")})
            if profile.get("css_link_color"):
                wanted["accent_colour"] = profile["css_link_color"]
        page = Page.objects.filter(code=code).first()
        if page is None:
            page = services.page_create(name=wanted["name"], time_zone=wanted["time_zone"], code=code)
            keep_source_id(page, code, profile.get("created_at"))
            self.report.count("page", "imported")
        changes = {key: value for key, value in wanted.items() if getattr(page, key) != value}
        if changes:
            page = page_services.page_update(page=page, **changes)
        if self.report.counts["page"]["imported"] == 0:
            self.report.count("page", "updated" if changes else "unchanged")
        self.page = page

    def import_groups(self) -> None:
        for item in self.snapshot.groups:
            self._one("component groups", self._group, item)

    def _group(self, item: dict) -> str:
        code, page = item["id"], self.page
        group = ComponentGroup.objects.filter(page=page, code=code).first()
        description = item.get("description") or ""
        if group is None:
            if claimed_elsewhere(ComponentGroup, code, page):
                raise Skip(f"{code}: the id belongs to a group of another page here")
            group = services.component_group_create(
                page=page, name=item["name"], description=description, position=item.get("position")
            )
            keep_source_id(group, code, item.get("created_at"))
            self.groups[code] = group
            return "imported"
        self.groups[code] = group
        if (group.name, group.description, group.position) == (item["name"], description, item.get("position")):
            return "unchanged"
        page_services.component_group_update(
            group=group, name=item["name"], description=description, position=item.get("position")
        )
        return "updated"

    def import_components(self) -> None:
        self.group_of = {child: g["id"] for g in self.snapshot.groups for child in g.get("components") or []}
        for item in self.snapshot.components:
            self._one("components", self._component, item)

    def _component(self, item: dict) -> str:
        code, page = item["id"], self.page
        group_code = item.get("group_id") or self.group_of.get(code)
        wanted = {
            "name": item["name"],
            "description": item.get("description") or "",
            "group": self.groups.get(group_code),
            "position": item.get("position") or 0,
            "showcase": bool(item.get("showcase", True)),
            "only_show_if_degraded": bool(item.get("only_show_if_degraded", False)),
            "start_date": parse_date(item["start_date"]) if item.get("start_date") else None,
        }
        component = Component.objects.filter(page=page, code=code).select_related("group").first()
        if component is None:
            if claimed_elsewhere(Component, code, page):
                raise Skip(f"{code}: the id belongs to a component of another page here")
            # Created operational: the incidents' transitions replay its history, then its current status is set.
            component = services.component_create(page=page, **wanted)
            keep_source_id(component, code, item.get("created_at"))
            self.components[code] = component
            return "imported"
        self.components[code] = component
        changes = {key: value for key, value in wanted.items() if getattr(component, key) != value}
        if not changes:
            return "unchanged"
        page_services.component_update(component=component, **changes)
        return "updated"

    def set_current_statuses(self) -> None:
        """Each component's status as the source shows it now (the incidents' transitions led most there)."""
        for item in self.snapshot.components:
            component = self.components.get(item["id"])
            if component is None:
                continue
            component.refresh_from_db(fields=["status"])
            if item.get("status") and component.status != item["status"]:
                services.component_set_status(component=component, status=item["status"])
        # The status history was written out of time order across incidents: the uptime is replayed from it.
        with transaction.atomic():
            rebuild_component_days(list(Component.objects.filter(page=self.page).select_related("page")))

    # -- incidents ------------------------------------------------------------------------------------------

    def import_incidents(self) -> None:
        items = sorted(self.snapshot.incidents, key=lambda i: i.get("started_at") or i.get("created_at") or "")
        for number, item in enumerate(items, 1):
            self._one("incidents", self._incident, item)
            self.report.progress("incidents", number, len(items))

    def _one(self, kind: str, write, item: dict) -> None:
        """One object in one transaction: written whole, or skipped whole with the reason."""
        try:
            with transaction.atomic():
                outcome = write(item)
        except Skip as exc:
            self.report.skip(kind, str(exc))
        except ValidationError as exc:
            self.report.skip(kind, f"{item.get('id')}: {validation_message(exc)}")
        except (IntegrityError, KeyError, TypeError, ValueError) as exc:
            self.report.skip(kind, f"{item.get('id')}: malformed or conflicting data ({type(exc).__name__}: {exc})")
        else:
            self.report.count(kind, outcome)

    def _updates(self, item: dict) -> list[dict]:
        updates = sorted(item.get("incident_updates") or [], key=lambda u: (u["display_at"] or "", u["created_at"]))
        has_postmortem = any(u["status"] == IncidentStatus.POSTMORTEM for u in updates)
        if item.get("postmortem_body") and item.get("postmortem_published_at") and not has_postmortem:
            # Statuspage keeps the published postmortem beside the updates; here it is the postmortem update.
            at = item["postmortem_published_at"]
            updates.append({"id": None, "status": IncidentStatus.POSTMORTEM, "body": item["postmortem_body"],
                            "display_at": at, "created_at": at, "affected_components": None,
                            "deliver_notifications": bool(item.get("postmortem_notified_subscribers"))})  # fmt: skip
        if not updates:
            raise Skip(f"{item['id']}: it has no updates")
        return updates

    def _transitions(self, update: dict) -> dict[Component, str]:
        changes = {}
        for change in update.get("affected_components") or []:
            component = self.components.get(change["code"])
            if component is None:
                raise Skip(f"update {update['id']}: component {change['code']} is not on the page")
            if change.get("new_status") and change.get("new_status") != change.get("old_status"):
                changes[component] = change["new_status"]
        return changes

    def _body(self, update: dict) -> str:
        body = update.get("body") or ""
        return body if body.strip() else DEFAULT_BODIES.get(update["status"], update["status"].replace("_", " "))

    def _incident(self, item: dict) -> str:
        code, page = item["id"], self.page
        updates = self._updates(item)
        incident = Incident.objects.filter(page=page, code=code).first()
        if incident is not None:
            return self._refresh(incident, item, updates)
        if claimed_elsewhere(Incident, code, page):
            raise Skip(f"{code}: the id belongs to an incident of another page here")
        first, rest = updates[0], updates[1:]
        changes = self._transitions(first)
        listed = [self.components[c["id"]] for c in item.get("components") or [] if c["id"] in self.components]
        affected = [c for c in listed if c not in changes]
        display_at = source_time(first["display_at"])
        if item.get("scheduled_for"):
            if first["status"] != MaintenanceStatus.SCHEDULED:
                raise Skip(f"{code}: a maintenance whose first update is not 'scheduled'")
            incident = maintenance_create(
                page=page,
                name=item["name"],
                body=self._body(first),
                scheduled_for=source_time(item["scheduled_for"]),
                scheduled_until=source_time(item["scheduled_until"]),
                components=[*affected, *changes],
                auto_in_progress=bool(item.get("scheduled_auto_in_progress")),
                auto_completed=bool(item.get("scheduled_auto_completed")),
                remind_prior=bool(item.get("scheduled_remind_prior")),
                deliver_notifications=False,
                display_at=display_at,
                long_window=True,
            )
        else:
            started_at = source_time(item.get("started_at"))
            incident = services.incident_create(
                page=page,
                name=item["name"],
                body=self._body(first),
                status=first["status"],
                components=changes,
                affected=affected,
                impact_override=item.get("impact_override") or None,
                display_at=display_at,
                started_at=started_at if started_at and started_at < display_at else None,
                deliver_notifications=False,
            )
        keep_source_id(incident, code, item.get("created_at"))
        self._keep_update(incident.updates.get(), first)
        for update in rest:
            self._post(incident, update)
        self._settle(incident, item)
        return "imported"

    def _post(self, incident: Incident, update: dict) -> None:
        row = services.incident_post_update(
            incident=incident,
            body=self._body(update),
            status=update["status"],
            components=self._transitions(update),
            display_at=source_time(update["display_at"]),
            deliver_notifications=False,  # never a notification for history
        )
        self._keep_update(row, update)

    def _keep_update(self, row: IncidentUpdate, update: dict) -> None:
        if update.get("id"):
            if claimed_elsewhere(IncidentUpdate, update["id"], self.page):
                raise Skip(f"update {update['id']}: the id belongs to an update of another page here")
            keep_source_id(row, update["id"], update.get("created_at"))
        if update.get("deliver_notifications"):
            # The flag as the source shows it, set after posting (an edit sends nothing).
            services.incident_update_edit(update=row, deliver_notifications=True)

    def _settle(self, incident: Incident, item: dict) -> None:
        """The impact as the source shows it (Statuspage may have overridden it), and the postmortem draft."""
        incident.refresh_from_db()
        impact = item.get("impact_override") or item.get("impact")
        if impact and impact != incident.impact and not incident.is_maintenance:
            services.incident_edit(incident=incident, impact_override=impact)
        draft = item.get("postmortem_body") if not item.get("postmortem_published_at") else None
        if draft and draft != incident.postmortem:
            services.incident_postmortem_save(incident=incident, body=draft)

    def _refresh(self, incident: Incident, item: dict, updates: list[dict]) -> str:
        """An incident imported before: changed update texts and its name follow; new updates are posted."""
        known = {row.code: row for row in incident.updates.all()}
        postmortem = services.published_postmortem(incident)
        changed = False
        for update in updates:
            row = known.get(update["id"]) if update["id"] else postmortem
            if row is None:
                self._post(incident, update)
                changed = True
            elif row.body != self._body(update):
                services.incident_update_edit(update=row, body=self._body(update))
                changed = True
        if incident.name != item["name"]:
            services.incident_edit(incident=incident, name=item["name"])
            changed = True
        self._settle(incident, item)
        return "updated" if changed else "unchanged"

    # -- templates and subscribers --------------------------------------------------------------------------

    def import_templates(self) -> None:
        for item in self.snapshot.templates:
            self._one("incident templates", self._template, item)

    def _template(self, item: dict) -> str:
        code, page = item["id"], self.page
        statuses = item.get("component_statuses") or {}
        components = {
            self.components[c["id"]]: statuses.get(c["id"], "")
            for c in item.get("components") or []
            if c["id"] in self.components
        }
        fields = {
            "name": item["name"],
            "title": item.get("title") or item["name"],
            "body": item.get("body") or "",
            "update_status": item.get("update_status") or IncidentStatus.INVESTIGATING,
            "should_send_notifications": bool(item.get("should_send_notifications", True)),
        }
        template = IncidentTemplate.objects.filter(page=page, code=code).first()
        if template is None:
            if claimed_elsewhere(IncidentTemplate, code, page):
                raise Skip(f"{code}: the id belongs to a template of another page here")
            template = page_services.incident_template_create(page=page, components=components, **fields)
            keep_source_id(template, code, item.get("created_at"))
            return "imported"
        now = {link.component: link.status for link in template.component_links.select_related("component")}
        if all(getattr(template, k) == v for k, v in fields.items()) and now == components:
            return "unchanged"
        page_services.incident_template_update(template=template, components=components, **fields)
        return "updated"
