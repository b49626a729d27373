"""The subscriber admin saves a subscriber's components and groups through notifications.services."""

from incidents import services
from tests.notify_helpers import confirmed


def change_form_data(client, subscriber, **changes):
    """What the change form would post as it is, with `changes`."""
    form = client.get(f"/admin/notifications/subscriber/{subscriber.pk}/change/").context["adminform"].form
    data = {}
    for name, field in form.fields.items():
        value = form.initial.get(name, field.initial)
        if value is None or value is False:
            continue
        if name in ("components", "groups"):
            data[name] = [getattr(item, "pk", item) for item in value]
        else:
            data[name] = getattr(value, "pk", value)
    data.update(changes)
    data["_save"] = "Save"
    return data


def test_another_pages_component_or_group_is_a_form_error_and_changes_nothing(admin_client, page, make_component):
    other = services.page_create(name="Other Corp")
    foreign = services.component_create(page=other, name="Foreign")
    foreign_group = services.component_group_create(page=other, name="Elsewhere")
    mine = make_component("API")
    subscriber = confirmed(page, "ann@example.com")
    url = f"/admin/notifications/subscriber/{subscriber.pk}/change/"

    for field, item in (("components", foreign), ("groups", foreign_group)):
        response = admin_client.post(url, change_form_data(admin_client, subscriber, **{field: [item.pk]}))
        assert response.status_code == 200
        assert "does not belong to the subscriber" in response.content.decode()
        subscriber.refresh_from_db()
        assert subscriber.all_components
        assert not subscriber.components.exists()
        assert not subscriber.groups.exists()

    response = admin_client.post(url, change_form_data(admin_client, subscriber, components=[mine.pk]))
    assert response.status_code == 302
    subscriber.refresh_from_db()
    assert list(subscriber.components.all()) == [mine]
    assert not subscriber.all_components  # the service's rule: chosen components mean not all of them

    response = admin_client.post(url, change_form_data(admin_client, subscriber, components=[]))
    assert response.status_code == 302
    subscriber.refresh_from_db()
    assert subscriber.all_components
    assert not subscriber.components.exists()
