"""One postmortem per incident: publishing again replaces its text (service, public page, API, email, admin)."""

from datetime import timedelta

import pytest
import time_machine
from bs4 import BeautifulSoup
from django.contrib.admin.models import LogEntry
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone

from incidents import services
from incidents.choices import ComponentStatus as S
from incidents.choices import IncidentStatus as I
from incidents.models import IncidentUpdate
from incidents.selectors import label_updates
from notifications.models import Notification
from tests.notify_helpers import assert_email_contains, confirmed

# Real commits, so that the after-commit fan-out runs and the emails land in the test outbox.
pytestmark = pytest.mark.django_db(transaction=True)

FIRST = "## Root cause\n\nA queue filled up."
SECOND = "## Root cause\n\nA queue filled up because a consumer stalled."


@pytest.fixture
def resolved(page, make_component):
    api = make_component("API")
    earlier = timezone.now() - timedelta(hours=3)
    incident = services.incident_create(
        page=page, name="Pushes delayed", body="Looking.", components={api: S.MAJOR_OUTAGE}, display_at=earlier
    )
    services.incident_post_update(
        incident=incident, body="Fixed.", status=I.RESOLVED, display_at=earlier + timedelta(hours=1)
    )
    confirmed(page, "reader@example.com", components=[api])
    mail.outbox.clear()
    return incident


def publish_twice(incident, *, notify_again=False):
    first = services.incident_postmortem_publish(incident=incident, body=FIRST, deliver_notifications=True)
    with time_machine.travel(timezone.now() + timedelta(hours=2)):
        second = services.incident_postmortem_publish(
            incident=incident, body=SECOND, deliver_notifications=notify_again
        )
    return first, second


def test_publishing_again_replaces_the_postmortems_text_and_keeps_its_time(resolved):
    first, second = publish_twice(resolved)
    (postmortem,) = resolved.updates.filter(status=I.POSTMORTEM)
    assert postmortem.pk == first.pk == second.pk
    assert postmortem.body == SECOND
    assert postmortem.display_at == first.display_at
    resolved.refresh_from_db()
    assert (resolved.status, resolved.postmortem, resolved.postmortem_notify) == (I.POSTMORTEM, SECOND, False)


def test_an_edited_postmortem_emails_only_when_asked_and_is_labelled_postmortem(resolved):
    publish_twice(resolved, notify_again=False)
    assert [m.subject for m in mail.outbox] == ["[Acme Cloud] Pushes delayed: Postmortem"]

    mail.outbox.clear()
    services.incident_postmortem_publish(
        incident=resolved, body=SECOND + "\n\nFixed a typo.", deliver_notifications=True
    )
    services.incident_postmortem_publish(
        incident=resolved, body=SECOND + "\n\nAnd another.", deliver_notifications=True
    )
    assert [m.subject for m in mail.outbox] == ["[Acme Cloud] Pushes delayed: Postmortem"] * 2
    assert_email_contains(mail.outbox[-1], "consumer stalled", "And another.")
    assert Notification.objects.filter(update__incident=resolved, update__status=I.POSTMORTEM).count() == 3


def test_the_public_page_home_page_and_api_show_one_postmortem(client, resolved):
    publish_twice(resolved)
    html = BeautifulSoup(client.get(f"/incidents/{resolved.code}").content, "html.parser")
    labels = [h.get_text(strip=True) for h in html.select(".timeline .update-label")]
    assert labels == ["Postmortem", "Resolved", "Investigating"]
    assert "consumer stalled" in html.select_one(".timeline .update").get_text()

    home = BeautifulSoup(client.get("/").content, "html.parser")
    lines = [" ".join(p.get_text(" ").split()) for p in home.select(".past-incident p")]
    assert sum(line.startswith("Postmortem - Read the postmortem") for line in lines) == 1
    assert not any(line.startswith("Update - Read the postmortem") for line in lines)

    (incident,) = client.get("/api/v2/incidents.json").json()["incidents"]
    assert [u["status"] for u in incident["incident_updates"]] == ["postmortem", "resolved", "investigating"]
    assert "consumer stalled" in incident["incident_updates"][0]["body"]


def test_a_second_postmortem_update_is_refused(resolved):
    services.incident_postmortem_publish(incident=resolved, body=FIRST)
    with pytest.raises(ValidationError) as refused:
        services.incident_post_update(incident=resolved, body="Another postmortem.", status=I.POSTMORTEM)
    assert "postmortem already" in str(refused.value)
    assert resolved.updates.filter(status=I.POSTMORTEM).count() == 1


def test_a_postmortem_is_never_labelled_update(resolved):
    # An older database may hold two postmortem updates: each is still called a postmortem.
    updates = [*resolved.updates.order_by("display_at", "id"), IncidentUpdate(status=I.POSTMORTEM)]
    updates.append(IncidentUpdate(status=I.POSTMORTEM))
    label_updates(updates)
    assert [u.label for u in updates] == ["Investigating", "Resolved", "Postmortem", "Postmortem"]


# -- the admin -----------------------------------------------------------------------------------------------


@pytest.fixture
def logged_in(client, responder):
    client.force_login(responder)
    return client


def admin_page(client, incident):
    return BeautifulSoup(client.get(f"/admin/incidents/incident/{incident.pk}/change/").content, "html.parser")


def test_the_admin_publishes_changes_to_the_published_postmortem(logged_in, resolved):
    url = f"/admin/incidents/incident/{resolved.pk}/postmortem/"
    html = admin_page(logged_in, resolved)
    assert html.select_one("#postmortem").has_attr("open")  # resolved: the postmortem comes next
    assert html.select_one("#postmortem input[name=_publish]")["value"] == "Publish postmortem"

    logged_in.post(url, {"postmortem": FIRST, "deliver_notifications": "on", "_publish": "1"})
    assert len(mail.outbox) == 1
    html = admin_page(logged_in, resolved)
    summary = html.select_one("#postmortem summary").get_text(" ", strip=True)
    assert summary.startswith("Postmortem published ")
    assert "draft" not in summary
    assert html.select_one("#id_postmortem").get_text().strip() == FIRST
    assert html.select_one("#postmortem input[name=_publish]")["value"] == "Publish changes"
    assert not html.select_one("#id_postmortem_notify").has_attr("checked")

    logged_in.post(url, {"postmortem": SECOND, "_publish": "1"})
    (postmortem,) = resolved.updates.filter(status=I.POSTMORTEM)
    assert postmortem.body == SECOND
    assert len(mail.outbox) == 1  # not ticked: nobody is emailed again
    assert LogEntry.objects.filter(change_message=f"Edited update {postmortem.code}: postmortem message.").exists()
    labels = [s.get_text(strip=True) for s in admin_page(logged_in, resolved).select(".sp-timeline .sp-label")]
    assert labels == ["Postmortem", "Resolved", "Investigating"]


def test_an_unpublished_change_to_the_postmortem_is_called_a_draft(logged_in, resolved):
    services.incident_postmortem_publish(incident=resolved, body=FIRST)
    services.incident_postmortem_save(incident=resolved, body=SECOND)
    summary = admin_page(logged_in, resolved).select_one("#postmortem summary").get_text(" ", strip=True)
    assert summary.startswith("Postmortem published ")
    assert summary.endswith("(changes saved as a draft)")


def test_an_open_incidents_postmortem_section_is_folded(logged_in, page):
    incident = services.incident_create(page=page, name="Slow", body="Looking.")
    html = admin_page(logged_in, incident)
    assert html.select_one("#postmortem") is not None
    assert not html.select_one("#postmortem").has_attr("open")
    assert html.select_one(".sp-metrics") is not None
    assert html.select_one("#id_next_update_in") is not None


def test_a_maintenances_page_shows_none_of_the_incident_only_parts(logged_in, page, make_component):
    from incidents.services.maintenance import maintenance_create

    db = make_component("Database")
    start = timezone.now() + timedelta(days=1)
    maintenance = maintenance_create(
        page=page, name="Database upgrade", body="We upgrade the database.", scheduled_for=start,
        scheduled_until=start + timedelta(hours=2), components=[db],
    )  # fmt: skip
    response = logged_in.get(f"/admin/incidents/incident/{maintenance.pk}/change/")
    html = BeautifulSoup(response.content, "html.parser")
    text = " ".join(html.select_one("#content-main").get_text(" ").split())
    for absent in ("Postmortem", "Time to identify", "Time to resolution", "Promises kept", "Next update in",
                   "Shown while the incident is open", "impact, delete"):  # fmt: skip
        assert absent not in text, absent
    assert html.select_one("#postmortem") is None
    assert html.select_one("#id_postmortem") is None
    assert [o["value"] for o in html.select("#id_status option")] == [
        "scheduled",
        "in_progress",
        "verifying",
        "completed",
    ]
    assert "scheduled for" in text  # its window
    assert "We upgrade the database." in text  # its timeline
    with pytest.raises(ValidationError):
        services.incident_postmortem_publish(incident=maintenance, body="No.")


def test_after_the_postmortem_the_post_update_form_offers_no_second_one(logged_in, resolved):
    services.incident_postmortem_publish(incident=resolved, body=FIRST)
    html = admin_page(logged_in, resolved)
    assert "postmortem" not in [o["value"] for o in html.select("#id_status option")]
    assert html.select_one("#id_status option[selected]")["value"] == "resolved"
    refused = logged_in.post(
        f"/admin/incidents/incident/{resolved.pk}/change/", {"status": "postmortem", "body": "Again."}
    )
    assert refused.status_code == 200
    assert resolved.updates.filter(status=I.POSTMORTEM).count() == 1
