"""The admin's words: plurals that agree, model names spelled right."""

import pytest
from bs4 import BeautifulSoup
from django.contrib.auth.models import User

from incidents import services
from notifications.models import Delivery


@pytest.fixture
def su(client, db):
    client.force_login(User.objects.create_superuser("root", "root@example.com", "x"))
    return client


def test_deliveries_are_spelled_right(su):
    assert str(Delivery._meta.verbose_name_plural) == "deliveries"
    html = su.get("/admin/").content.decode()
    assert "Deliveries" in html
    assert "Deliverys" not in html


@pytest.mark.parametrize(("updates", "count"), [(1, "(1 update, newest first)"), (2, "(2 updates, newest first)")])
def test_the_timeline_counts_its_updates_in_good_english(su, page, updates, count):
    incident = services.incident_create(page=page, name="API errors", body="Looking.")
    if updates == 2:
        services.incident_post_update(incident=incident, status="identified", body="Found.")
    html = BeautifulSoup(su.get(f"/admin/incidents/incident/{incident.pk}/change/").content, "html.parser")
    assert " ".join(html.select_one("#timeline-title").get_text().split()) == f"Timeline {count}"
