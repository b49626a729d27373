"""The page logo lives in its own table: a page row (and every select_related("page")) no longer carries it."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test.utils import CaptureQueriesContext

from incidents import page_services, services
from incidents.models import Component, Incident, Page, PageLogo
from notifications.models import Subscriber

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
    b"\x00\x00\x00\rIDATx\x9cc\xf8\xcf\xc0\xf0\x1f\x00\x05\x00\x01\xff\x89\x99=\x1d\x00\x00\x00\x00IEND\xaeB`\x82"
)
GIF = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"  # noqa: E501


def sql_of(queryset) -> str:
    with CaptureQueriesContext(connection) as ctx:
        list(queryset)
    return " ".join(query["sql"] for query in ctx.captured_queries)


def test_rows_read_with_their_page_do_not_carry_the_logo(page):
    page_services.page_set_logo(page=page, data=PNG)
    services.incident_create(page=page, name="Down", body="a")
    component = services.component_create(page=page, name="API")
    Subscriber.objects.create(page=page, email="a@example.com")
    for queryset in (
        Incident.objects.select_related("page"),
        Component.objects.select_related("page"),
        Subscriber.objects.select_related("page"),
        Page.objects.all(),
    ):
        sql = sql_of(queryset)
        assert '"incidents_page"' in sql
        assert '"logo"' not in sql, sql
        assert '"data"' not in sql, sql
        assert "pagelogo" not in sql, sql
    assert component.page.logo_type == "image/png"  # what the header needs comes with the page row


def test_the_logo_is_kept_replaced_and_removed_in_its_own_row(page):
    page = page_services.page_set_logo(page=page, data=PNG)
    assert (bytes(PageLogo.objects.get(page=page).data), page.logo_type) == (PNG, "image/png")
    page = page_services.page_set_logo(page=page, data=GIF)
    assert (bytes(PageLogo.objects.get(page=page).data), page.logo_type) == (GIF, "image/gif")
    assert PageLogo.objects.count() == 1
    page = page_services.page_set_logo(page=page, data=None)
    assert (PageLogo.objects.filter(page=page).exists(), page.logo_type) == (False, "")


def test_the_public_logo_is_served_cached_and_etagged_by_the_page_version(client, page):
    assert client.get("/logo").status_code == 404
    page_services.page_set_logo(page=page, data=PNG)
    first = client.get("/logo")
    assert (first.status_code, first["Content-Type"], first.content) == (200, "image/png", PNG)
    assert "public" in first["Cache-Control"]
    assert client.get("/logo", headers={"if-none-match": first["ETag"]}).status_code == 304
    with CaptureQueriesContext(connection) as ctx:
        again = client.get("/logo")
    assert again.content == PNG
    assert len(ctx.captured_queries) == 0  # the page state and the bytes both come from the cache
    page_services.page_set_logo(page=page, data=GIF)
    replaced = client.get("/logo")
    assert (replaced["Content-Type"], replaced.content) == ("image/gif", GIF)
    assert replaced["ETag"] != first["ETag"]


def test_the_admin_refuses_what_is_not_a_raster_image_and_stores_what_is(client, page, page_admin):
    client.force_login(page_admin)
    form = {"name": page.name, "time_zone": "UTC", "accent_colour": "#1f5fbf"}
    url = f"/admin/incidents/page/{page.pk}/change/"
    for name, data in (("logo.png", b"<html>not an image</html>"), ("logo.svg", b"<svg onload=alert(1)></svg>")):
        refused = client.post(url, {**form, "logo_upload": SimpleUploadedFile(name, data)})
        assert refused.status_code == 200
        assert "PNG, JPEG, GIF or WebP" in refused.content.decode()
        assert not PageLogo.objects.exists()
    assert client.post(url, {**form, "logo_upload": SimpleUploadedFile("logo.png", PNG)}).status_code == 302
    assert bytes(PageLogo.objects.get(page=page).data) == PNG
    assert client.get(url).status_code == 200  # the settings screen opens with a logo set
    assert client.post(url, {**form, "remove_logo": "on"}).status_code == 302
    assert not PageLogo.objects.exists()


def _migration(name_part: str):
    executor = MigrationExecutor(connection)
    (key,) = [k for k in executor.loader.graph.nodes if k[0] == "incidents" and name_part in k[1]]
    (parent,) = [p.key for p in executor.loader.graph.node_map[key].parents if p.key[0] == "incidents"]
    return key, parent


@pytest.mark.django_db(transaction=True)
def test_the_migration_moves_existing_logos_and_rollup_incident_maps():
    key, parent = _migration("logo_table")
    executor = MigrationExecutor(connection)
    executor.migrate([parent])
    old = executor.loader.project_state([parent]).apps
    OldPage, OldComponent, OldDay = (old.get_model("incidents", n) for n in ("Page", "Component", "ComponentDay"))
    with_logo = OldPage.objects.create(code="withlogo0001", name="A", logo=PNG, logo_type="image/png")
    OldPage.objects.create(code="nologo000001", name="B")
    component = OldComponent.objects.create(page=with_logo, code="component001", name="API")
    OldDay.objects.create(component=component, day="2025-06-10", major=60, incidents={"abc": "Old", "def": "Older"})
    OldDay.objects.create(component=component, day="2025-06-11", major=60)

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
    page = Page.objects.get(code="withlogo0001")
    assert (page.logo_type, bytes(page.logo.data)) == ("image/png", PNG)
    assert PageLogo.objects.count() == 1
    days = dict(Component.objects.get(pk=component.pk).days.values_list("day__day", "incident_codes"))
    assert days == {10: ["abc", "def"], 11: []}

    # And back: the logo returns to the page row, the codes become a map of the names that still exist.
    Incident.objects.create(
        page=page, code="abc", name="Now named", started_at=page.created_at, last_update_at=page.created_at
    )
    executor = MigrationExecutor(connection)
    executor.migrate([parent])
    old = executor.loader.project_state([parent]).apps
    OldPage, OldDay = old.get_model("incidents", "Page"), old.get_model("incidents", "ComponentDay")
    assert bytes(OldPage.objects.get(code="withlogo0001").logo) == PNG
    assert OldDay.objects.get(day="2025-06-10").incidents == {"abc": "Now named"}
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
