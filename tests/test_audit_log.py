"""The audit log: every write records who (user, or key through the API), when, what, before and after; page
admins read their pages' entries in the admin, filter them and export them as CSV."""

import csv
import io

import pytest
from django.contrib.auth.models import User

from accounts.models import ApiKey, AuditEntry
from accounts.services import member_set
from incidents import services
from notifications.endpoint_subscribers import subscribe_endpoint
from tests.api_support import Api
from tests.publishing_helpers import PNG


@pytest.fixture
def adam(page):
    user = User.objects.create_user("adam", is_staff=True)
    member_set(user=user, page=page, role="page_admin")
    return user


def entries(**filters):
    return list(AuditEntry.objects.filter(**filters).order_by("id"))


def test_an_api_write_records_the_key_and_the_values_before_and_after(client, page, make_component, adam):
    component = make_component("API")
    row, key = ApiKey.issue(adam, name="pager")
    AuditEntry.objects.all().delete()
    response = Api(client, page, key).patch(
        f"components/{component.code}", {"component": {"status": "major_outage", "name": "Public API"}}
    )
    assert response.status_code == 200
    changes = entries(object_type="component")
    assert [(e.action, e.before, e.after) for e in changes] == [
        ("changed", {"name": "API"}, {"name": "Public API"}),
        ("changed", {"status": "operational"}, {"status": "major_outage"}),
    ]
    assert {(e.user, e.api_key, e.page_id, e.object_id) for e in changes} == {(adam, row, page.pk, str(component.pk))}
    assert changes[0].actor == "adam (API key " + row.prefix + "…)"


def test_an_admin_write_records_the_signed_in_user_and_nothing_leaks_to_writes_outside_a_request(client, page, adam):
    incident = services.incident_create(page=page, name="Slow", body="Looking.")
    client.force_login(adam)
    response = client.post(
        f"/admin/incidents/incident/{incident.pk}/details/", {"name": "Slow API", "impact_override": ""}
    )
    assert response.status_code == 302
    renamed = entries(object_type="incident", action="changed")[-1]
    assert (renamed.user, renamed.api_key, renamed.before, renamed.after) == (
        adam, None, {"name": "Slow"}, {"name": "Slow API"}
    )  # fmt: skip
    services.incident_edit(incident=incident, name="Slow API, again")  # as a command or a task would
    assert entries(object_type="incident")[-1].actor == "system"


def test_members_keys_and_subscribers_are_recorded_too(page, adam):
    from notifications import services as notifications

    rita = User.objects.create_user("rita")
    member_set(user=rita, page=page, role="responder")
    member_set(user=rita, page=page, role="page_admin")
    key, _ = ApiKey.issue(rita, name="ci")
    key.revoke()
    subscriber = notifications.subscribe(page=page, email="ann@example.com", confirmed=True)
    notifications.subscriber_unsubscribe(subscriber)
    kinds = [(e.object_type, e.action) for e in entries(page=page)]
    assert ("membership", "created") in kinds
    assert ("membership", "changed") in kinds
    assert ("subscriber", "created") in kinds
    assert ("subscriber", "deleted") in kinds
    assert ("API key", "created") in [(e.object_type, e.action) for e in entries()]
    assert all("key_hash" not in (e.after or {}) for e in entries(object_type="API key"))  # no secret logged
    revoked = entries(object_type="API key", action="changed")[-1]
    assert (revoked.before, set(revoked.after)) == ({"revoked_at": None}, {"revoked_at"})


def test_page_admins_read_their_pages_entries_filter_them_and_export_them(client, page, other_page, adam):
    services.incident_create(page=page, name="Ours", body="Looking.")
    services.incident_create(page=other_page, name="Theirs", body="Looking.")
    client.force_login(adam)
    listing = client.get("/admin/accounts/auditentry/")
    assert listing.status_code == 200
    shown = {e.object_repr for e in listing.context["cl"].queryset}
    assert "Ours" in shown
    assert "Theirs" not in shown
    filtered = client.get(f"/admin/accounts/auditentry/?page__id__exact={page.pk}&object_type=incident")
    assert {e.object_type for e in filtered.context["cl"].queryset} == {"incident"}
    ours = AuditEntry.objects.filter(page=page)
    theirs = AuditEntry.objects.filter(page=other_page).first()
    response = client.post(
        "/admin/accounts/auditentry/",
        {"action": "export_csv", "_selected_action": [e.pk for e in ours] + [theirs.pk]},
    )
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert len(rows) == ours.count()  # another page's entry is not exported, even when asked for
    assert "Ours" in {row["object_repr"] for row in rows}
    assert client.get(f"/admin/accounts/auditentry/{theirs.pk}/change/").status_code == 404


def test_responders_do_not_read_the_audit_log(client, page, responder):
    client.force_login(responder)
    assert client.get("/admin/accounts/auditentry/").status_code == 403


def test_no_secret_and_no_hash_of_one_is_ever_recorded(page, settings):
    """A webhook's signing secret is shown once; a page's password is stored hashed: neither in the log."""
    from incidents import access_services

    settings.WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    access_services.page_set_access(page=page, visibility="password", password="hunter2-long-pass")
    _subscriber, secret = subscribe_endpoint(
        page=page, channel="webhook", endpoint="http://127.0.0.1/hook", email="w@example.com", confirmed=True
    )
    page.refresh_from_db()
    recorded = " ".join(f"{entry.before} {entry.after}" for entry in AuditEntry.objects.all())
    assert "webhook" in recorded  # the subscriber was recorded...
    assert secret not in recorded  # ...without its secret
    assert page.password_hash not in recorded
    assert "password_hash" not in recorded


def test_subscriber_state_changes_viewers_and_audience_groups_are_recorded(page, make_component):
    from incidents import access_services
    from notifications import services as notifications

    subscriber = notifications.subscribe(page=page, email="reader@example.com")
    notifications.subscriber_confirm(subscriber, welcome=False)
    notifications.subscriber_quarantine(subscriber.pk, "mailbox full")
    notifications.subscribers_reactivate(type(subscriber).objects.filter(pk=subscriber.pk))
    states = [
        (entry.before["state"], entry.after["state"])
        for entry in entries(object_type="subscriber", action="changed")
        if "state" in (entry.before or {})
    ]
    assert states == [("pending", "confirmed"), ("confirmed", "quarantined"), ("quarantined", "confirmed")]
    group = access_services.audience_group_create(page=page, name="Enterprise")
    access_services.viewer_add(page=page, email="ada@example.com", group=group)
    assert [entry.page_id for entry in entries(object_type="viewer", action="created")] == [page.pk]
    assert entries(object_type="audience group", action="created")


def test_the_default_page_a_logo_and_a_postmortem_draft_are_recorded(page, other_page):
    from incidents import page_services
    from incidents.services.postmortems import incident_postmortem_save

    page_services.page_make_default(page=other_page)
    page_services.page_set_logo(page=other_page, data=PNG)
    incident = services.incident_create(page=page, name="Slow", body="Looking.")
    incident_postmortem_save(incident=incident, body="## What happened", notify=True)
    changes = [(e.object_type, e.page_id, e.before, e.after) for e in entries(action="changed")]
    assert ("page", page.pk, {"is_default": True}, {"is_default": False}) in changes
    assert ("page", other_page.pk, {"is_default": False}, {"is_default": True}) in changes
    assert ("page", other_page.pk, {"logo": None}, {"logo": "image/png"}) in changes
    assert (
        "incident", page.pk, {"postmortem": "", "postmortem_notify": False},
        {"postmortem": "## What happened", "postmortem_notify": True},
    ) in changes  # fmt: skip
