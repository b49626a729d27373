"""summary.json keeps each component's object in the process (incidents.public_cache.fragments) under every
value it shows: a write shows at once, and a group is listed with the children each viewer may see."""

from incidents import access_services, page_services, services
from tests.test_private_pages import make_private, sign_in_by_link


def summary_components(client) -> dict:
    response = client.get("/api/v2/summary.json")
    assert response.status_code == 200
    return {c["name"]: c for c in response.json()["components"]}


def test_a_renamed_component_and_a_new_time_zone_show_at_once(client, page, make_component):
    api = make_component("API")
    before = summary_components(client)["API"]
    page_services.component_update(component=api, name="Public API")
    assert list(summary_components(client)) == ["Public API"]
    page_services.page_update(page=page, time_zone="Asia/Tokyo")
    after = summary_components(client)["Public API"]
    assert after["created_at"].endswith("+09:00")
    assert not before["created_at"].endswith("+09:00")


def test_a_group_lists_the_children_each_audience_sees(client, page, make_component):
    group = services.component_group_create(page=page, name="Gateways")
    alpha = make_component("Alphacorp gateway", group=group)
    bravo = make_component("Bravocorp gateway", group=group)
    make_private(page)
    x = access_services.audience_group_create(page=page, name="X", components=[alpha])
    access_services.viewer_add(page=page, email="xavier@x.test", group=x)
    access_services.viewer_add(page=page, email="whole@x.test")
    sign_in_by_link(client, page, "whole@x.test")
    whole = summary_components(client)["Gateways"]
    assert (whole["components"], whole["status"]) == ([alpha.code, bravo.code], "operational")
    client.cookies.clear()
    sign_in_by_link(client, page, "xavier@x.test")
    seen = summary_components(client)
    assert list(seen) == ["Gateways", "Alphacorp gateway"]
    assert seen["Gateways"]["components"] == [alpha.code]
