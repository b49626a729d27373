"""Page order is decided once (incidents.selectors): the API lists components, an incident's components and a
template's components in the order the public page shows them, ties and groups included."""

import pytest

from incidents import page_services, services
from incidents.choices import ComponentStatus as S
from incidents.models import Component
from tests.api_support import Api

# Shown on the page as: Edge [Alpha, Zeta], Web, Core [Db], Mail (a group before a component at the same position).
PAGE_ORDER = ["Alpha", "Zeta", "Web", "Db", "Mail"]


@pytest.fixture
def layout(page, make_component):
    edge = services.component_group_create(page=page, name="Edge", position=0)
    core = services.component_group_create(page=page, name="Core", position=1)
    made = [
        make_component("Mail", position=1),
        make_component("Web", position=0),
        make_component("Zeta", group=edge, position=5),
        make_component("Db", group=core, position=0),
        make_component("Alpha", group=edge, position=2),
    ]
    return {c.name: c for c in made}


def names(rows):
    return [row["name"] for row in rows]


def test_the_api_lists_an_incidents_components_in_page_order(client, page, layout, admin_key):
    incident = services.incident_create(
        page=page, name="Everything", body="Down.", components=dict.fromkeys(layout.values(), S.MAJOR_OUTAGE)
    )
    assert names(Api(client, page, admin_key).get(f"incidents/{incident.code}").json()["components"]) == PAGE_ORDER
    public = client.get("/api/v2/incidents.json").json()["incidents"][0]
    assert names(public["components"]) == PAGE_ORDER


def test_the_manage_api_lists_the_components_in_page_order(client, page, layout, admin_key):
    assert names(Api(client, page, admin_key).get("components").json()) == PAGE_ORDER


def test_a_templates_components_come_in_page_order(client, page, layout, admin_key):
    page_services.incident_template_create(
        page=page, name="t", title="T", body="B", components=dict.fromkeys(layout.values(), S.DEGRADED_PERFORMANCE)
    )
    (template,) = Api(client, page, admin_key).get("incident_templates").json()
    assert names(template["components"]) == PAGE_ORDER
    assert list(template["component_statuses"]) == [layout[name].code for name in PAGE_ORDER]


def test_the_databases_page_order_is_the_python_one(page, layout):
    """The public page's order (page_layout, page_components) is PAGE_ORDER, and the database sorts the same."""
    from incidents.selectors import components_in_page_order, in_page_order, page_components

    in_python = in_page_order(Component.objects.filter(page=page).select_related("group"))
    assert [c.name for c in in_python] == PAGE_ORDER
    assert list(components_in_page_order(Component.objects.filter(page=page))) == in_python
    assert page_components(page) == in_python
