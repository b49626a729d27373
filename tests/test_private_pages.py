"""Private, password and email-domain pages: every address of the page refuses a stranger, nothing of a
non-public page is served from or stored in a shared cache entry, published, or told in an email."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth.models import User
from django.core import mail
from django.utils import timezone

from incidents import access_services, services
from incidents.choices import ComponentStatus as S
from incidents.choices import Visibility
from incidents.models import Page, Viewer
from incidents.publishing.run import publish_all
from incidents.publishing.site import _routes
from incidents.services.maintenance import maintenance_create
from notifications.models import Subscriber
from tests.api_support import grant_role

SECRET = "Zanzibar"  # in the component's and the incident's names: a response that holds it leaked


@pytest.fixture(autouse=True)
def _fresh_attempt_limits():
    # The sign-in limits count in the cache; a Redis cache outlives each test.
    from django.core.cache import cache

    if hasattr(cache, "delete_pattern"):
        cache.delete_pattern("access:attempts:*")


@pytest.fixture
def secret(page, make_component):
    """The default page, with a component, an incident and a maintenance that name SECRET."""
    api = make_component(f"{SECRET} API")
    incident = services.incident_create(
        page=page, name=f"{SECRET} outage", body="We look into it.", components={api: S.PARTIAL_OUTAGE}
    )
    now = timezone.now()
    maintenance_create(
        page=page, name=f"{SECRET} upgrade", body="Planned.", scheduled_for=now + timedelta(days=1),
        scheduled_until=now + timedelta(days=1, hours=1), components=[api],
    )  # fmt: skip
    return incident


QUIET = ("status.json", "active.json", "upcoming.json")  # no names in these (the maintenance is scheduled)
QUIET += ("badge.json", "uptime-30.json", "uptime-90.json")  # badges name the page or one component only


def make_private(page, visibility=Visibility.PRIVATE, **fields) -> Page:
    return access_services.page_set_access(page=page, visibility=visibility, **fields)


def addresses(page: Page, incident_code: str) -> list[str]:
    """Every public address of the page (read from the URLconf, so a new public view is covered too)."""
    found = []
    component = page.components.values_list("code", flat=True).first()
    for route, _ in _routes():
        route = route.replace("<slug:code>", incident_code).replace("<int:number>", "2")
        route = route.replace("<slug:component_code>", component)
        found.append(page.public_url("home") + route if page.is_default else f"/p/{page.code}/{route}")
    return found


def assert_refused(response):
    assert response.status_code == 401, response.status_code
    assert SECRET.encode() not in response.content
    assert "public" not in response.get("Cache-Control", "")


def test_every_address_of_a_private_page_refuses_a_stranger_with_nothing_of_its_content(client, page, secret):
    make_private(page)
    paths = addresses(page, secret.code) + [f"/p/{page.code}/", f"/p/{page.code}/api/v2/incidents.json"]
    assert "/maintenance.ics" in paths
    assert "/history.atom" in paths
    assert "/api/v2/summary.json" in paths
    for path in paths:
        assert_refused(client.get(path))
    assert client.get("/api/v2/summary.json").json() == {"error": "This page is not public: sign in to read it."}
    assert b"Sign in to Acme Cloud Status" in client.get("/").content


def test_a_member_reads_every_address_and_a_stranger_after_them_gets_nothing_from_the_cache(client, page, secret):
    make_private(page)
    admin = User.objects.create_superuser("root", "root@example.com", "pw")
    member, stranger = client, type(client)()
    member.force_login(admin)
    for path in addresses(page, secret.code):
        allowed = member.get(path)
        if path.endswith(("/logo", "/history/page/2")):
            assert allowed.status_code == 404  # no logo, one history page
        else:
            assert allowed.status_code == 200, path
            assert allowed["Cache-Control"] == "private, no-store"
            assert "ETag" not in allowed
        if path.endswith(("/", "/history", ".json", ".atom", ".rss", ".ics")) and not path.endswith(QUIET):
            assert SECRET.encode() in allowed.content, path
        assert_refused(stranger.get(path))
        assert_refused(stranger.get(path, headers={"accept-encoding": "gzip, br"}))


def test_a_public_page_turned_private_no_longer_serves_its_cached_answers(client, page, secret):
    for path in ("/", "/api/v2/summary.json", "/history.atom"):
        assert SECRET.encode() in client.get(path).content  # stored in the cache, for everyone
    make_private(page)
    for path in ("/", "/api/v2/summary.json", "/history.atom"):
        assert_refused(client.get(path))


def test_the_password_lets_a_visitor_in_until_it_changes(client, page, secret):
    make_private(page, Visibility.PASSWORD, password="open sesame")
    assert b'name="password"' in client.get("/").content
    wrong = client.post("/access/password", {"password": "guess"})
    assert wrong.status_code == 400
    assert SECRET.encode() not in wrong.content
    right = client.post("/access/password", {"password": "open sesame"})
    assert right.status_code == 302
    cookie = right.cookies[f"sp_access_{page.code}"]
    assert cookie["httponly"]
    assert cookie["samesite"] == "Lax"
    assert SECRET.encode() in client.get("/").content
    assert SECRET.encode() in client.get(f"/incidents/{secret.code}").content
    make_private(page, Visibility.PASSWORD, password="another secret")
    assert_refused(client.get("/"))


def test_a_forged_or_other_pages_cookie_gives_no_access(client, page, secret):
    make_private(page, Visibility.PASSWORD, password="open sesame")
    other = make_private(services.page_create(name="Other"), Visibility.PASSWORD, password="open sesame")
    client.post(f"/p/{other.code}/access/password", {"password": "open sesame"})
    client.cookies[f"sp_access_{page.code}"] = client.cookies[f"sp_access_{other.code}"].value
    assert_refused(client.get("/"))
    client.cookies[f"sp_access_{page.code}"] = '{"k": "pw"}'
    assert_refused(client.get("/"))


def test_password_guesses_are_limited(client, page):
    make_private(page, Visibility.PASSWORD, password="open sesame")
    codes = [client.post("/access/password", {"password": f"guess {n}"}).status_code for n in range(11)]
    assert codes == [400] * 10 + [429]
    assert client.post("/access/password", {"password": "open sesame"}).status_code == 429


def link_in(message) -> str:
    body = message.get_body(preferencelist=("plain",)).get_content()
    return re.search(r"http://127\.0\.0\.1:8000(/\S+)", body).group(1)


def test_an_address_in_an_allowed_domain_signs_in_by_the_emailed_link(client, page, secret, smtp):
    make_private(page, Visibility.EMAIL_DOMAIN, allowed_domains="example.com\nAcme.test")
    asked = client.post("/access/email", {"email": "Ann@acme.test"})
    assert asked.status_code == 200
    assert b"we have sent it a link" in asked.content
    assert SECRET.encode() not in asked.content
    client.post("/access/email", {"email": "eve@elsewhere.test"})  # the same answer, and no email
    (message,) = smtp.messages
    assert message["To"] == "ann@acme.test"
    link = link_in(message)
    shown = client.get(link)  # a mail scanner opens it: a button, no access yet
    assert shown.status_code == 200
    assert not shown.cookies
    assert_refused(client.get("/"))
    assert client.post(link).status_code == 302
    assert SECRET.encode() in client.get("/").content
    assert SECRET.encode() in client.get("/api/v2/incidents.json").content
    with time_machine.travel(timezone.now() + timedelta(minutes=61)):
        assert type(client)().post(link).status_code == 400  # expired
    access_services.page_set_access(page=page, visibility=Visibility.EMAIL_DOMAIN, allowed_domains="example.com")
    assert_refused(client.get("/"))  # the domain was taken off the list


def test_a_named_viewer_signs_in_by_link_and_loses_access_when_removed(client, page, secret, smtp):
    make_private(page)
    viewer = access_services.viewer_add(page=page, email="Val@Customer.test")
    client.post("/access/email", {"email": "val@customer.test"})
    client.post(link_in(smtp.messages[-1]))
    assert SECRET.encode() in client.get("/").content
    Viewer.objects.filter(pk=viewer.pk).delete()
    assert_refused(client.get("/"))


def test_a_viewer_feed_url_carries_a_token_that_reads_the_feed_without_a_cookie(client, page, secret, smtp):
    make_private(page)
    access_services.viewer_add(page=page, email="val@customer.test")
    client.post("/access/email", {"email": "val@customer.test"})
    client.post(link_in(smtp.messages[-1]))
    home = client.get("/").content.decode()
    atom = re.search(r'href="(/history\.atom\?token=[^"]+)"', home).group(1).replace("&amp;", "&")
    ics = re.search(r'href="(/maintenance\.ics\?token=[^"]+)"', home).group(1)
    reader = type(client)()
    assert SECRET.encode() in reader.get(atom).content
    assert SECRET.encode() in reader.get(ics).content
    assert_refused(reader.get(atom[:-3] + "xyz"))
    assert_refused(reader.get("/?" + atom.split("?")[1]))  # a feed token opens feeds only
    Viewer.objects.filter(page=page).delete()
    assert_refused(reader.get(atom))


def test_a_non_public_page_is_never_published_and_leaves_the_published_copy(page, secret, settings, tmp_path):
    other = services.page_create(name="Other")
    settings.PUBLISH_TARGET = f"file://{tmp_path}"
    publish_all(full=True)
    assert (tmp_path / "index.html").exists()
    assert (tmp_path / "p" / page.code / "index.html").exists()
    make_private(page, Visibility.PASSWORD, password="open sesame")  # republished on commit: removed
    publish_all(full=True)
    leaked = [p for p in tmp_path.rglob("*") if p.is_file() and SECRET.encode() in p.read_bytes()]
    assert leaked == []
    assert not (tmp_path / "p" / page.code).exists()
    assert not (tmp_path / "index.html").exists()
    assert (tmp_path / "p" / other.code / "index.html").exists()


def test_a_stranger_cannot_subscribe_to_a_private_page(client, page, secret):
    make_private(page)
    response = client.post("/subscribe", {"email": "eve@example.com"})
    assert_refused(response)
    assert not Subscriber.objects.exists()


def test_an_unknown_address_of_a_private_page_does_not_name_it(client, page):
    page = make_private(services.page_create(name=f"{SECRET} Inc"))
    response = client.get(f"/p/{page.code}/nowhere")
    assert response.status_code == 404
    assert SECRET.encode() not in response.content


def test_emails_to_subscribers_of_a_private_page_carry_none_of_its_content(
    page, make_component, django_capture_on_commit_callbacks
):
    from tests.notify_helpers import confirmed, text_part

    api = make_component(f"{SECRET} API")
    confirmed(page, "sam@example.com")
    make_private(page)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.incident_create(
            page=page, name=f"{SECRET} outage", body=f"{SECRET} is down.", components={api: S.MAJOR_OUTAGE}
        )
    (message,) = mail.outbox
    assert SECRET not in message.subject + text_part(message) + message.alternatives[0][0]
    assert "/incidents/" in text_part(message)
    assert message.subject == "[Acme Cloud] A new incident update"


# -- audience groups: a viewer of group X sees only X's components and incidents --------------------------------


@pytest.fixture
def audiences(page, make_component):
    """Group X sees the Alphacorp component, group Y the Bravocorp one; one incident each, and one of both."""
    alpha, bravo = make_component("Alphacorp gateway"), make_component("Bravocorp gateway")
    made = {}
    for name, components in (("Alpha", [alpha]), ("Bravo", [bravo]), ("Common", [alpha, bravo])):
        made[name] = services.incident_create(
            page=page, name=f"{name}corp outage" if name != "Common" else "Common outage", body="Looking.",
            components=dict.fromkeys(components, S.PARTIAL_OUTAGE),
        )  # fmt: skip
    make_private(page)
    x = access_services.audience_group_create(page=page, name="X", components=[alpha])
    access_services.audience_group_create(page=page, name="Y", components=[bravo])
    access_services.viewer_add(page=page, email="xavier@x.test", group=x)
    return made


def sign_in_by_link(client, page, email):
    from incidents.access import link_token

    assert client.post(page.public_url("access-link", token=link_token(page, email))).status_code == 302


def test_a_viewer_of_group_x_never_sees_group_y_components_or_incidents(client, page, audiences):
    sign_in_by_link(client, page, "xavier@x.test")
    common, alpha, bravo = audiences["Common"], audiences["Alpha"], audiences["Bravo"]
    paths = [
        "/", "/history", "/uptime", "/history.atom", "/history.rss", f"/incidents/{alpha.code}",
        f"/incidents/{common.code}", "/api/v2/summary.json", "/api/v2/components.json", "/api/v2/incidents.json",
        "/api/v2/incidents/unresolved.json", f"/api/v2/incidents/{common.code}.json",
    ]  # fmt: skip
    for path in paths:
        response = client.get(path)
        assert response.status_code == 200, path
        assert b"Bravocorp" not in response.content, path
        if path not in ("/uptime", "/history.atom", "/history.rss", "/history"):
            assert b"Alphacorp gateway" in response.content, path
    assert b"Common outage" in client.get("/").content
    assert client.get(f"/incidents/{bravo.code}").status_code == 404
    assert client.get(f"/api/v2/incidents/{bravo.code}.json").status_code == 404
    summary = client.get("/api/v2/summary.json").json()
    assert [c["name"] for c in summary["components"]] == ["Alphacorp gateway"]
    assert {i["name"] for i in summary["incidents"]} == {"Alphacorp outage", "Common outage"}


def test_a_member_and_a_viewer_without_a_group_see_every_component(client, page, audiences):
    access_services.viewer_add(page=page, email="whole@x.test")
    sign_in_by_link(client, page, "whole@x.test")
    summary = client.get("/api/v2/summary.json").json()
    assert [c["name"] for c in summary["components"]] == ["Alphacorp gateway", "Bravocorp gateway"]
    member = type(client)()
    root = User.objects.create_superuser("root", "root@example.com", "pw")
    member.force_login(root)
    assert b"Bravocorp outage" in member.get("/history.atom").content
    feed = re.search(r'href="(/history\.atom\?token=[^"]+)"', member.get("/").content.decode()).group(1)
    assert b"Bravocorp outage" in type(client)().get(feed).content  # a member's own feed token
    User.objects.filter(pk=root.pk).update(is_superuser=False)
    assert_refused(type(client)().get(feed))  # no longer a member: the token reads nothing


# -- the admin ----------------------------------------------------------------------------------------------------


def test_a_page_admin_protects_a_page_with_a_password_and_names_viewers(client, page, page_admin, make_component):
    client.force_login(page_admin)
    form = {"name": page.name, "time_zone": "UTC", "accent_colour": "#1f5fbf", "visibility": "password"}
    refused = client.post(f"/admin/incidents/page/{page.pk}/change/", form)
    assert refused.status_code == 200
    assert "needs one" in refused.content.decode()
    assert Page.objects.get(pk=page.pk).visibility == "public"  # nothing changed
    assert (
        client.post(f"/admin/incidents/page/{page.pk}/change/", {**form, "new_password": "open sesame"}).status_code
        == 302
    )
    assert Page.objects.get(pk=page.pk).visibility == "password"
    assert type(client)().get("/").status_code == 401
    elsewhere = services.page_create(name="Other")
    grant_role(page_admin, "Page admins", [elsewhere])  # even a page admin of both pages
    other = make_component("Elsewhere", page=elsewhere)
    bad = client.post("/admin/incidents/audiencegroup/add/", {"page": page.pk, "name": "X", "components": [other.pk]})
    assert bad.status_code == 200
    assert "Not of the page" in bad.content.decode()
    added = client.post("/admin/incidents/viewer/add/", {"page": page.pk, "email": "Val@Customer.TEST"})
    assert added.status_code == 302
    assert Viewer.objects.get().email == "val@customer.test"


def test_subscriber_link_pages_show_only_what_the_visitor_may_read_and_unsubscribing_always_works(
    client, page, audiences
):
    from notifications import services as notifications
    from notifications.tokens import make_token

    alpha = page.components.get(name="Alphacorp gateway")
    subscriber = notifications.subscribe(page=page, email="xavier@x.test", components=[alpha], confirmed=True)
    manage = f"/subscriptions/manage/{make_token(subscriber, 'manage')}"
    stranger = client.get(manage)  # the link alone opens nothing of a page that is not public
    assert stranger.status_code == 401
    assert b"gateway" not in stranger.content
    sign_in_by_link(client, page, "xavier@x.test")
    own = client.get(manage)
    assert own.status_code == 200
    assert b"Alphacorp gateway" in own.content
    assert b"Bravocorp" not in own.content  # another audience's component is never named
    client.cookies.clear()
    gone = client.post(manage, {"action": "unsubscribe"})  # no access needed to leave
    assert gone.status_code == 200
    assert b"gateway" not in gone.content
    assert not Subscriber.objects.filter(pk=subscriber.pk).exists()


def test_visitors_of_a_page_not_open_to_everyone_cannot_add_a_webhook(client, page, secret):
    sign_in_by_link_or_password = access_services.page_set_access(
        page=page, visibility=Visibility.PASSWORD, password="correct horse battery"
    )
    assert sign_in_by_link_or_password.visibility == Visibility.PASSWORD
    assert client.post(page.public_url("access-password"), {"password": "correct horse battery"}).status_code == 302
    assert b'name="endpoint"' not in client.get("/").content
    response = client.post("/subscribe", {"email": "hooks@x.test", "endpoint": "https://hooks.example/status"})
    assert response.status_code == 400
    assert b"webhooks are added by its administrators" in response.content
    assert not Subscriber.objects.filter(endpoint="https://hooks.example/status").exists()
