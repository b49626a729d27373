"""Every admin screen has unique element ids: a label must tick its own box, never another form's.

The test walks every registered ModelAdmin (changelist, add, change, history, delete) and every custom
incident view (declare, post update with a preview and with errors, postmortem, edit and delete an update,
schedule a maintenance, the page chooser), as a superuser with some data on two pages.
"""

from collections import Counter
from datetime import timedelta

import pytest
from bs4 import BeautifulSoup
from django.contrib import admin
from django.contrib.auth.models import User
from django.urls import reverse
from django.utils import timezone

from accounts.models import ApiKey
from accounts.services import member_set
from incidents import access_services, services
from incidents.models import IncidentTemplate
from incidents.services.maintenance import maintenance_create
from notifications import services as notification_services
from notifications.imports import start_import
from notifications.models import Delivery


def duplicate_ids(html: bytes) -> list[str]:
    ids = Counter(tag["id"] for tag in BeautifulSoup(html, "html.parser").find_all(id=True))
    return sorted(name for name, count in ids.items() if count > 1)


@pytest.fixture
def data(db, django_capture_on_commit_callbacks):
    page = services.page_create(name="Acme Cloud", time_zone="Europe/Paris")
    services.page_create(name="Acme Labs")  # two pages: declaring asks which one
    group = services.component_group_create(page=page, name="Messaging")
    push = services.component_create(page=page, group=group, name="Push")
    services.component_create(page=page, name="API")
    template = IncidentTemplate.objects.create(page=page, name="Delays", title="Delays", body="Looking.")
    template.components.add(push)
    notification_services.subscribe(page=page, email="ann@example.com", confirmed=True)
    with django_capture_on_commit_callbacks(execute=True):
        start_import(page=page, data=b"bob@example.com\n", active_at_once=True)
    with django_capture_on_commit_callbacks(execute=True):
        resolved = services.incident_create(
            page=page, name="Push delayed", body="Looking.", components={push: "partial_outage"}
        )
        services.incident_post_update(incident=resolved, status="resolved", body="Fixed.")
    services.incident_postmortem_save(incident=resolved, body="## Root cause\n\nA stuck consumer.")
    open_incident = services.incident_create(
        page=page, name="API errors", body="Looking.", components={push: "major_outage"}
    )
    start = timezone.now() + timedelta(days=2)
    maintenance = maintenance_create(
        page=page, name="Database upgrade", body="Planned.", scheduled_for=start,
        scheduled_until=start + timedelta(hours=2), components=[push],
    )  # fmt: skip
    audience = access_services.audience_group_create(page=page, name="Customers", components=[push])
    access_services.viewer_add(page=page, email="val@example.com", group=audience)
    superuser = User.objects.create_superuser("root", "root@example.com", "root-secret-123")
    ApiKey.issue(superuser, "monitoring")
    member_set(user=User.objects.create_user("rita"), page=page, role="responder")
    assert Delivery.objects.exists()
    return {"page": page, "resolved": resolved, "open": open_incident, "maintenance": maintenance, "user": superuser}


@pytest.fixture
def su(client, data):
    client.force_login(data["user"])
    return client


def model_admin_urls() -> list[str]:
    urls = [reverse("admin:index"), reverse("admin:password_change")]
    for model, model_admin in admin.site._registry.items():
        opts = model._meta
        name = f"admin:{opts.app_label}_{opts.model_name}"
        urls += [reverse(f"{name}_changelist"), reverse("admin:app_list", args=[opts.app_label])]
        if model_admin.has_add_permission(_superuser_request()):
            urls.append(reverse(f"{name}_add"))
        obj = model_admin.get_queryset(_superuser_request()).order_by("pk").last()
        assert obj is not None, f"the fixture has no {opts.verbose_name}: add one"
        urls += [reverse(f"{name}_change", args=[obj.pk]), reverse(f"{name}_history", args=[obj.pk])]
        if model_admin.has_delete_permission(_superuser_request(), obj):
            urls.append(reverse(f"{name}_delete", args=[obj.pk]))
    return urls


def _superuser_request():
    from django.test import RequestFactory

    request = RequestFactory().get("/admin/")
    request.user = User.objects.get(username="root")
    return request


def test_every_model_admin_screen_has_unique_ids(su, data):
    pages = {url: su.get(url) for url in dict.fromkeys(model_admin_urls())}
    assert {url: r.status_code for url, r in pages.items() if r.status_code != 200} == {}
    assert {url: duplicate_ids(r.content) for url, r in pages.items() if duplicate_ids(r.content)} == {}


def test_the_user_password_screen_and_the_login_page_have_unique_ids(su, data, client):
    response = su.get(reverse("admin:auth_user_password_change", args=[data["user"].pk]))
    assert response.status_code == 200
    assert duplicate_ids(response.content) == []
    client.logout()
    response = client.get(reverse("admin:login"))
    assert response.status_code == 200
    assert duplicate_ids(response.content) == []


def custom_screens(su, data):
    """(what, response) for each custom incident view, in its plain and its busy states."""
    page, resolved, open_incident = data["page"], data["resolved"], data["open"]
    update = open_incident.updates.get()
    template = IncidentTemplate.objects.get()
    add = reverse("admin:incidents_incident_add")
    schedule = reverse("admin:incidents_incident_schedule")
    detail = reverse("admin:incidents_incident_change", args=[open_incident.pk])
    post = {"status": "identified", "body": "Found it.", "deliver_notifications": "on"}
    yield "choose a page to declare on", su.get(add)
    yield "choose a page to schedule on", su.get(schedule)
    yield "declare", su.get(f"{add}?page={page.code}")
    yield "declare from a template", su.get(f"{add}?page={page.code}&template={template.code}")
    yield (
        "declare, preview",
        su.post(f"{add}?page={page.code}", {"name": "X", "status": "investigating", "body": "**x**", "_preview": "1"}),
    )
    yield "declare, errors", su.post(f"{add}?page={page.code}", {"name": "", "status": "investigating", "body": ""})
    yield "schedule", su.get(f"{schedule}?page={page.code}")
    yield "schedule, errors", su.post(f"{schedule}?page={page.code}", {"name": "", "body": ""})
    yield "open incident: post update", su.get(detail)
    yield "open incident, from a template", su.get(f"{detail}?template={template.code}")
    yield "post update, preview", su.post(detail, {**post, "_preview": "1"})
    yield "post update, errors", su.post(detail, {"status": "identified", "body": ""})
    yield "post update, duplicate guard", su.post(detail, {"status": "investigating", "body": "Looking."})
    yield (
        "resolved incident with a postmortem draft",
        su.get(reverse("admin:incidents_incident_change", args=[resolved.pk])),
    )
    yield "maintenance", su.get(reverse("admin:incidents_incident_change", args=[data["maintenance"].pk]))
    yield "edit an update", su.get(reverse("admin:incidents_incident_edit_update", args=[update.pk]))
    yield (
        "edit an update, errors",
        su.post(reverse("admin:incidents_incident_edit_update", args=[update.pk]), {"body": "", "display_at": "x"}),
    )
    yield "delete an update", su.get(reverse("admin:incidents_incident_delete_update", args=[update.pk]))
    yield "import subscribers", su.get(reverse("admin:notifications_subscriber_import"))  # fmt: skip


def test_every_custom_incident_screen_has_unique_ids(su, data):
    screens = list(custom_screens(su, data))
    assert {what: r.status_code for what, r in screens if r.status_code != 200} == {}
    assert {what: duplicate_ids(r.content) for what, r in screens if duplicate_ids(r.content)} == {}


def test_the_postmortem_notify_label_ticks_the_postmortem_box(su, data):
    html = BeautifulSoup(
        su.get(reverse("admin:incidents_incident_change", args=[data["resolved"].pk])).content, "html.parser"
    )
    label = next(
        label for label in html.select("#postmortem label") if label.get_text(strip=True) == "Notify subscribers"
    )
    box = html.find(id=label["for"])
    assert box is not None
    assert box.find_parent("form") is label.find_parent("form")
    assert box["name"] == "deliver_notifications"


def test_save_draft_keeps_the_notify_choice_and_publishing_uses_it(su, data):
    resolved = data["resolved"]
    detail = reverse("admin:incidents_incident_change", args=[resolved.pk])
    postmortem = reverse("admin:incidents_incident_postmortem", args=[resolved.pk])
    su.post(postmortem, {"postmortem": "## Root cause\n\nA consumer.", "deliver_notifications": "on", "_save": "1"})
    html = BeautifulSoup(su.get(detail).content, "html.parser")
    assert html.select_one("#postmortem input[name=deliver_notifications]").has_attr("checked")
    assert html.select_one("#postmortem textarea").get_text().strip().endswith("A consumer.")
    # The "Post update" form's box is its own, ticked by default as before.
    assert html.select_one(".sp-post input[name=deliver_notifications]").has_attr("checked")

    su.post(postmortem, {"postmortem": "## Root cause\n\nA consumer.", "_save": "1"})  # unticked, saved again
    html = BeautifulSoup(su.get(detail).content, "html.parser")
    assert not html.select_one("#postmortem input[name=deliver_notifications]").has_attr("checked")

    su.post(postmortem, {"postmortem": "## Root cause\n\nA consumer.", "deliver_notifications": "on", "_publish": "1"})
    assert resolved.updates.get(status="postmortem").deliver_notifications is True
