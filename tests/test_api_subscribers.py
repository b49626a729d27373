"""The manage API's subscribers: add (with or without the opt-in email), list, read, remove."""

from django.core import mail

from incidents import services
from notifications.models import Subscriber


def test_a_known_address_is_active_at_once_and_scoped_to_its_components(admin_api, page):
    api = services.component_create(page=page, name="API")
    group = services.component_group_create(page=page, name="Delivery")
    created = admin_api.post("subscribers", {"subscriber": {
        "email": "Ops@Customer.example", "component_ids": [api.code, group.code], "skip_confirmation_notification": True,
    }})  # fmt: skip
    assert created.status_code == 201, created.content
    body = created.json()
    # The domain's case is normalised; the local part is kept, and compared case-insensitively.
    assert (body["email"], body["state"], body["mode"]) == ("Ops@customer.example", "confirmed", "email")
    assert sorted(body["components"]) == sorted([api.code, group.code])
    assert mail.outbox == []
    assert [s["id"] for s in admin_api.get("subscribers").json()] == [body["id"]]
    assert admin_api.get(f"subscribers/{body['id']}").json()["email"] == "Ops@customer.example"
    again = admin_api.post("subscribers", {"subscriber": {"email": "ops@CUSTOMER.example"}})
    assert again.status_code == 201, again.content
    assert again.json()["id"] == body["id"]
    assert Subscriber.objects.count() == 1


def test_otherwise_the_address_gets_a_confirmation_email_and_stays_pending(
    admin_api, page, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        body = admin_api.post("subscribers", {"subscriber": {"email": "new@customer.example"}}).json()
    assert (body["state"], body["components"]) == ("pending", [])
    (confirmation,) = mail.outbox
    assert confirmation.to == ["new@customer.example"]


def test_removing_a_subscriber_stops_everything(admin_api, page):
    body = admin_api.post(
        "subscribers", {"subscriber": {"email": "a@b.example", "skip_confirmation_notification": True}}
    ).json()
    assert admin_api.delete(f"subscribers/{body['id']}").status_code == 200
    assert not Subscriber.objects.exists()
    assert admin_api.get(f"subscribers/{body['id']}").status_code == 404


def test_bad_subscribers_are_refused_clearly(admin_api, page, responder_api):
    cases = [
        ({"subscriber": {"email": "not an address"}}, 422),
        ({"subscriber": {"endpoint": "https://hooks.example/x"}}, 422),
        ({"subscriber": {"email": "a@b.example", "component_ids": ["zzzzzzzzzzzz"]}}, 422),
        ({"subscriber": {}}, 422),
    ]
    for body, status in cases:
        response = admin_api.post("subscribers", body)
        assert response.status_code == status, (body, response.content)
        assert "error" in response.json()
    assert responder_api.get("subscribers").status_code == 403
    assert responder_api.post("subscribers", {"subscriber": {"email": "a@b.example"}}).status_code == 403
    assert not Subscriber.objects.exists()
