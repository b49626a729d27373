"""The admin screens for subscribers and delivery progress."""

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile

from incidents import services
from incidents.choices import ComponentStatus as S
from notifications.models import Delivery, DeliveryStatus, Notification, Subscriber, SubscriberState
from tests.notify_helpers import confirmed

pytestmark = pytest.mark.django_db(transaction=True)

CHANGELIST = "/admin/notifications/subscriber/"


def test_subscribers_are_listed_by_page_with_search_and_state_filters(admin_client, page):
    confirmed(page, "ann@example.com")
    Subscriber.objects.create(page=page, email="bob@example.com")
    Subscriber.objects.create(page=page, email="carl@example.com", state=SubscriberState.QUARANTINED)

    assert "bob@example.com" in admin_client.get(CHANGELIST, {"q": "bob"}).content.decode()
    quarantined = admin_client.get(CHANGELIST, {"state__exact": "quarantined"}).content.decode()
    assert "carl@example.com" in quarantined
    assert "ann@example.com" not in quarantined
    assert "ann@example.com" in admin_client.get(CHANGELIST, {"page__id__exact": page.pk}).content.decode()


def test_a_csv_import_can_make_a_known_list_active_at_once(admin_client, page):
    upload = SimpleUploadedFile("list.csv", b"email,name\nAnn@Example.com,Ann\nnot-an-address,X\nbob@example.com,Bob\n")
    response = admin_client.post(
        CHANGELIST + "import/", {"page": page.pk, "file": upload, "active_at_once": "on"}, follow=True
    )
    html = response.content.decode()
    assert "Importing 2 addresses on Acme Cloud: each will be subscribed" in html
    assert "1 line skipped" in html
    assert "2 of 2" in html
    assert "Done" in html
    assert sorted(Subscriber.objects.values_list("email", "state")) == [
        ("Ann@example.com", "confirmed"),
        ("bob@example.com", "confirmed"),
    ]
    assert mail.outbox == []


def test_a_csv_import_can_ask_each_address_to_confirm_instead(admin_client, page):
    upload = SimpleUploadedFile("list.csv", b"ann@example.com\n")
    admin_client.post(CHANGELIST + "import/", {"page": page.pk, "file": upload})
    assert Subscriber.objects.get().state == SubscriberState.PENDING
    assert [m.subject for m in mail.outbox] == ["[Acme Cloud] Confirm your subscription"]


def test_subscribers_export_as_csv(admin_client, page):
    ann = confirmed(page, "ann@example.com")
    response = admin_client.post(CHANGELIST, {"action": "export_csv", "_selected_action": [ann.pk]})
    assert response["Content-Type"].startswith("text/csv")
    lines = response.content.decode().splitlines()
    assert lines[0].startswith("email,page,state,scope")
    assert lines[1].startswith(f"ann@example.com,{page.code},confirmed,all components")


def test_each_update_shows_its_delivery_progress_and_failed_deliveries_can_be_retried(
    admin_client, page, make_component
):
    api = make_component("API")
    readers = [confirmed(page, f"r{n}@example.com") for n in range(3)]
    services.incident_create(page=page, name="Down", body="Looking.", components={api: S.MAJOR_OUTAGE})
    notification = Notification.objects.get()
    Delivery.objects.filter(subscriber=readers[0]).update(status=DeliveryStatus.FAILED, last_error="451 later")
    html = admin_client.get("/admin/notifications/notification/").content.decode()
    assert "Down: Investigating" in html
    assert 'class="field-sent">2<' in html
    assert "status__exact=failed" in html

    mail.outbox.clear()
    admin_client.post(
        "/admin/notifications/notification/", {"action": "retry_failed", "_selected_action": [notification.pk]}
    )
    assert [m.to for m in mail.outbox] == [["r0@example.com"]]
    assert set(Delivery.objects.values_list("status", flat=True)) == {DeliveryStatus.SENT}
