"""Page order is decided once (incidents/selectors.py) and every reader shows the same order.

The layout used here has ties on purpose: an ungrouped component and a group at the same position (the group
comes first), and a component placed before a group that was created first (page order, not groups first).
"""

import re

import pytest
from django.urls import reverse

from incidents import selectors, services
from incidents.admin.forms import DeclareForm
from incidents.choices import ComponentStatus as S
from incidents.presentation import affected_line
from notifications import services as subscriptions
from notifications.emails import NotificationEmail, scope_names
from notifications.models import Notification
from notifications.subscribe_form import SubscribeForm
from notifications.tokens import make_token


@pytest.fixture
def layout(db):
    page = services.page_create(name="Acme")
    delivery = services.component_group_create(page=page, name="Delivery", position=1)
    sms = services.component_create(page=page, name="SMS", group=delivery, position=1)
    email = services.component_create(page=page, name="Email", group=delivery, position=0)
    api = services.component_create(page=page, name="API", position=1)  # ties with Delivery: after it
    web = services.component_create(page=page, name="Web", position=0)  # before the group created first
    return page, {"delivery": delivery, "sms": sms, "email": email, "api": api, "web": web}


PAGE_ORDER = ["Web", "Delivery", "Email", "SMS", "API"]


def names(rows):
    out = []
    for row in rows:
        if row.group:
            out += [row.group.name, *[c.name for c in row.children]]
        else:
            out.append(row.component.name)
    return out


def test_the_layout_is_in_page_order_with_ties_broken_one_way(layout):
    page, c = layout
    rows, components = selectors.page_layout(page)
    assert names(rows) == PAGE_ORDER
    assert [x.name for x in components] == ["Web", "Email", "SMS", "API"]
    assert [x.name for x in selectors.in_page_order([c["api"], c["sms"], c["delivery"], c["web"]])] == [
        "Web", "Delivery", "SMS", "API",
    ]  # fmt: skip


def test_the_public_page_and_the_admin_form_show_page_order(layout, client):
    page, _ = layout
    html = client.get("/").content.decode()
    shown = re.findall(r">\s*(Web|Delivery|Email|SMS|API)\s*<", html)
    assert [n for i, n in enumerate(shown) if n not in shown[:i]] == PAGE_ORDER
    form = DeclareForm(page)
    flat = []
    for group, members in form.component_rows:
        flat += ([group] if group else []) + [component.name for component, _ in members]
    assert flat == PAGE_ORDER


def test_the_email_lists_affected_components_in_page_order(layout):
    page, c = layout
    incident = services.incident_create(
        page=page, name="Outage", body="Looking.", components={c["api"]: S.MAJOR_OUTAGE, c["sms"]: S.MAJOR_OUTAGE}
    )
    email = NotificationEmail(Notification.objects.get(update__incident=incident))
    # Delivery ties with API on position 1: the group comes first, as on the page (the email had it the other way).
    assert [name for name, _ in email.context["components"]] == ["Delivery › SMS", "API"]
    assert affected_line(selectors.affected_components(incident)) == "Delivery (SMS) and API"


def test_the_subscribers_pages_and_emails_show_page_order(layout, client):
    page, c = layout
    subscriber = subscriptions.subscribe(
        page=page, email="a@example.com", components=[c["web"], c["api"]], groups=[c["delivery"]], confirmed=True
    )
    # The manage page listed groups first, then the ungrouped components.
    html = client.get(reverse("notifications:manage", kwargs={"token": make_token(subscriber, "manage")})).content
    shown = re.findall(r'name="(?:groups|components)" value="(\w+)"', html.decode())
    codes = {x.code: x.name for x in c.values()}
    assert [codes[code] for code in shown] == PAGE_ORDER
    assert scope_names(subscriber) == ["Web", "Delivery (the whole group)", "API"]
    form = SubscribeForm(page)
    assert [name for _, name in form.fields["components"].choices] == ["Web", "Email", "SMS", "API"]
