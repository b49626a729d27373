"""The responder's incident screens, driven through the admin's forms."""

from datetime import timedelta

import pytest
import time_machine
from bs4 import BeautifulSoup
from django.contrib.admin.models import LogEntry
from django.utils import timezone

from incidents import services
from incidents.models import Incident, IncidentTemplate


@pytest.fixture
def components(page):
    group = services.component_group_create(page=page, name="Delivery")
    return {
        "push": services.component_create(page=page, group=group, name="Push"),
        "email": services.component_create(page=page, group=group, name="Email"),
        "api": services.component_create(page=page, name="API"),
    }


@pytest.fixture
def logged_in(client, responder):
    client.force_login(responder)
    return client


def declare(client, components, **extra):
    data = {
        "name": "Push delayed",
        "status": "investigating",
        "body": "We are **looking** into delayed pushes.",
        "impact_override": "",
        "deliver_notifications": "on",
        f"component_{components['push'].code}": "partial_outage",
        f"component_{components['email'].code}": "degraded_performance",
        **extra,
    }
    return client.post("/admin/incidents/incident/add/", data)


def incident_url(incident):
    return f"/admin/incidents/incident/{incident.pk}/change/"


def test_declaring_posts_the_incident_with_its_components(logged_in, responder, components):
    response = declare(logged_in, components)
    incident = Incident.objects.get()
    assert response.status_code == 302
    assert response["Location"] == incident_url(incident)
    update = incident.updates.get()
    assert (update.status, update.author, update.deliver_notifications) == ("investigating", responder, True)
    components["push"].refresh_from_db()
    assert components["push"].status == "partial_outage"
    assert incident.impact == "major"
    assert "Push delayed" in logged_in.get("/").content.decode()


def test_the_declare_form_groups_components_as_on_the_page(logged_in, components):
    html = BeautifulSoup(logged_in.get("/admin/incidents/incident/add/").content, "html.parser")
    groups = [" ".join(g.get_text(" ").split()) for g in html.select(".sp-group")]
    assert groups[0].startswith("Delivery Push now Operational")
    assert "Email now Operational" in groups[0]
    assert groups[1].startswith("API now Operational")
    options = [o.get_text() for o in html.select(f"#id_component_{components['api'].code} option")]
    assert options[0] == "Unchanged"


def test_a_validation_error_keeps_everything_typed(logged_in, components):
    response = declare(logged_in, components, name="")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Please correct the errors below. Nothing was posted." in html
    assert "We are **looking** into delayed pushes." in html
    soup = BeautifulSoup(html, "html.parser")
    selected = soup.select_one(f"#id_component_{components['push'].code} option[selected]")
    assert selected["value"] == "partial_outage"
    assert not Incident.objects.exists()


def test_preview_renders_the_message_without_posting(logged_in, components):
    response = declare(logged_in, components, body="**bold** <script>alert(1)</script>", _preview="Preview")
    html = BeautifulSoup(response.content, "html.parser")
    preview = html.select_one(".sp-preview .sp-md")
    assert preview.find("strong").get_text() == "bold"
    assert preview.find("script") is None
    assert not Incident.objects.exists()


def test_posting_an_update_from_the_incident_page(logged_in, components):
    declare(logged_in, components)
    incident = Incident.objects.get()
    page = logged_in.get(incident_url(incident))
    assert (
        BeautifulSoup(page.content, "html.parser").select_one("#id_status option[selected]")["value"] == "investigating"
    )
    response = logged_in.post(incident_url(incident), {"status": "identified", "body": "Found a stuck queue."})
    assert response.status_code == 302
    labels = [
        s.get_text()
        for s in BeautifulSoup(logged_in.get(incident_url(incident)).content, "html.parser").select(".sp-label")
    ]
    assert labels == ["Identified", "Investigating"]


def test_an_identical_message_within_ten_minutes_asks_for_confirmation(logged_in, components):
    declare(logged_in, components)
    incident = Incident.objects.get()
    same = {"status": "investigating", "body": "We are  **looking** into delayed pushes.\n"}
    response = logged_in.post(incident_url(incident), same)
    assert response.status_code == 200
    assert "Post it again anyway?" in response.content.decode()
    assert incident.updates.count() == 1
    confirmed = logged_in.post(incident_url(incident), {**same, "confirm_duplicate": "on"})
    assert confirmed.status_code == 302
    assert incident.updates.count() == 2


def test_the_same_message_after_ten_minutes_posts_at_once(logged_in, components):
    declare(logged_in, components)
    incident = Incident.objects.get()
    with time_machine.travel(timezone.now() + timedelta(minutes=11)):
        response = logged_in.post(
            incident_url(incident), {"status": "investigating", "body": "We are **looking** into delayed pushes."}
        )
    assert response.status_code == 302
    assert incident.updates.count() == 2


def test_resolving_sets_the_affected_components_back_to_operational(logged_in, components):
    declare(logged_in, components)
    incident = Incident.objects.get()
    logged_in.post(incident_url(incident), {
        "status": "resolved", "body": "All clear.",
        f"component_{components['email'].code}": "degraded_performance",
    })  # fmt: skip
    statuses = {name: type(c).objects.get(pk=c.pk).status for name, c in components.items()}
    assert statuses == {"push": "operational", "email": "degraded_performance", "api": "operational"}
    incident.refresh_from_db()
    assert incident.status == "resolved"


def test_editing_an_update_backfills_its_time_and_is_logged(logged_in, components, page):
    declare(logged_in, components)
    incident = Incident.objects.get()
    update = incident.updates.get()
    url = f"/admin/incidents/incident/update/{update.pk}/edit/"
    earlier = timezone.localtime(update.display_at - timedelta(hours=1), page.tz).strftime("%Y-%m-%dT%H:%M")
    response = logged_in.post(url, {"body": "Edited text.", "display_at": earlier})
    assert response.status_code == 302
    update.refresh_from_db()
    incident.refresh_from_db()
    assert update.body == "Edited text."
    assert incident.started_at == update.display_at
    assert LogEntry.objects.filter(
        object_id=str(incident.pk), change_message__contains="message and display time"
    ).exists()
    future = (timezone.now() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    refused = logged_in.post(url, {"body": "Kept?", "display_at": future})
    assert refused.status_code == 200
    assert "must not be in the future" in refused.content.decode()
    update.refresh_from_db()
    assert update.body == "Edited text."


def test_deleting_an_update_asks_first_and_is_logged(logged_in, components):
    declare(logged_in, components)
    incident = Incident.objects.get()
    services.incident_post_update(incident=incident, status="identified", body="Wrong incident, sorry.")
    wrong = incident.updates.get(status="identified")
    url = f"/admin/incidents/incident/update/{wrong.pk}/delete/"
    assert "Wrong incident, sorry." in logged_in.get(url).content.decode()
    assert incident.updates.count() == 2
    logged_in.post(url)
    incident.refresh_from_db()
    assert incident.updates.count() == 1
    assert incident.status == "investigating"
    assert LogEntry.objects.filter(change_message__contains="Wrong incident, sorry.").exists()
    last = incident.updates.get()
    logged_in.post(f"/admin/incidents/incident/update/{last.pk}/delete/")
    assert incident.updates.count() == 1


def test_the_postmortem_is_a_draft_until_published_after_resolution(logged_in, components, client):
    declare(logged_in, components)
    incident = Incident.objects.get()
    url = f"/admin/incidents/incident/{incident.pk}/postmortem/"
    text = "## What happened\n\n- a queue filled up"
    logged_in.post(url, {"postmortem": text, "_publish": "Publish"})
    incident.refresh_from_db()
    assert incident.postmortem == text
    assert not incident.updates.filter(status="postmortem").exists()
    logged_in.post(incident_url(incident), {"status": "resolved", "body": "Fixed."})
    logged_in.post(url, {"postmortem": text, "_publish": "Publish"})
    postmortem = incident.updates.get(status="postmortem")
    assert (postmortem.body, postmortem.deliver_notifications) == (text, False)
    assert "What happened" in client.get(f"/incidents/{incident.code}").content.decode()


def test_a_template_prefills_the_declare_form(logged_in, components, page):
    template = IncidentTemplate.objects.create(page=page, name="Push delays", title="Push notifications delayed",
                                               body="Pushes are queued; we are on it.", update_status="identified")  # fmt: skip
    template.components.add(components["push"])
    html = BeautifulSoup(
        logged_in.get(f"/admin/incidents/incident/add/?template={template.code}").content, "html.parser"
    )
    assert html.select_one("#id_name")["value"] == "Push notifications delayed"
    assert html.select_one("#id_body").get_text().strip() == "Pushes are queued; we are on it."
    assert html.select_one("#id_status option[selected]")["value"] == "identified"
    assert html.select_one(f"#id_component_{components['push'].code} option[selected]")["value"] == "partial_outage"


def test_the_list_shows_open_incidents_first_with_minutes_since_the_last_update(logged_in, page):
    with time_machine.travel(timezone.now() - timedelta(hours=3), tick=False):
        old_open = services.incident_create(page=page, name="Old but open", body="a")
    closed = services.incident_create(page=page, name="Recent and resolved", body="a", status="resolved")
    html = BeautifulSoup(logged_in.get("/admin/incidents/incident/").content, "html.parser")
    rows = [" ".join(r.get_text(" ").split()) for r in html.select("#result_list tbody tr")]
    assert rows[0].startswith(old_open.name)
    assert rows[1].startswith(closed.name)
    assert "180" in rows[0]
    assert html.select_one("#result_list tbody tr .minutes.stale") is not None


def test_an_update_can_promise_the_next_one(logged_in, components):
    declare(logged_in, components, next_update_in="30")
    incident = Incident.objects.get()
    assert incident.next_update_at == incident.last_update_at + timedelta(minutes=30)
    page = BeautifulSoup(logged_in.get(incident_url(incident)).content, "html.parser")
    assert page.select_one(".sp-promise").get_text().startswith("Next update promised by")
    logged_in.post(incident_url(incident), {"status": "identified", "body": "Found it.", "next_update_in": "60"})
    incident.refresh_from_db()
    assert incident.next_update_at == incident.last_update_at + timedelta(hours=1)


def test_editing_only_the_message_keeps_the_exact_time(logged_in, components, page):
    with time_machine.travel(timezone.now().replace(second=37, microsecond=120000), tick=False):
        declare(logged_in, components)
    incident = Incident.objects.get()
    update = incident.updates.get()
    original = update.display_at
    shown = timezone.localtime(original, page.tz).strftime("%Y-%m-%dT%H:%M")
    response = logged_in.post(
        f"/admin/incidents/incident/update/{update.pk}/edit/", {"body": "Reworded.", "display_at": shown}
    )
    assert response.status_code == 302
    update.refresh_from_db()
    assert (update.body, update.display_at) == ("Reworded.", original)
    assert LogEntry.objects.filter(change_message__endswith=": message.").exists()


def test_an_open_incident_offers_no_postmortem_stage(logged_in, components):
    declare(logged_in, components)
    incident = Incident.objects.get()
    html = BeautifulSoup(logged_in.get(incident_url(incident)).content, "html.parser")
    assert "postmortem" not in [o["value"] for o in html.select("#id_status option")]
    refused = logged_in.post(incident_url(incident), {"status": "postmortem", "body": "Too early."})
    assert refused.status_code == 200
    assert incident.updates.count() == 1


def test_the_custom_admin_forms_are_protected_against_csrf(components, responder, page):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(responder)
    incident = services.incident_create(page=page, name="x", body="a")
    for url, data in [
        ("/admin/incidents/incident/add/", {"name": "Forged", "status": "investigating", "body": "x"}),
        (incident_url(incident), {"status": "resolved", "body": "forged"}),
        (f"/admin/incidents/incident/{incident.pk}/postmortem/", {"postmortem": "x", "_save": "1"}),
        (f"/admin/incidents/incident/update/{incident.updates.get().pk}/delete/", {}),
    ]:
        assert client.post(url, data).status_code == 403, url
    assert Incident.objects.count() == 1
    assert incident.updates.count() == 1


def test_the_list_searches_names_and_update_bodies_keeping_open_incidents_first(logged_in, page):
    resolved = services.incident_create(page=page, name="Queue backlog", body="Consumers stalled.", status="resolved")
    services.incident_post_update(incident=resolved, status="postmortem", body="The consumers stalled again.")
    open_one = services.incident_create(page=page, name="Slow API", body="Consumers stalled upstream.")
    services.incident_create(page=page, name="Unrelated", body="Nothing to see.")
    response = logged_in.get("/admin/incidents/incident/?q=stalled")
    assert response.status_code == 200
    html = BeautifulSoup(response.content, "html.parser")
    names = [r.select_one("th").get_text(strip=True) for r in html.select("#result_list tbody tr")]
    assert names == [open_one.name, resolved.name]
