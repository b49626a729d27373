"""Who may read a page: the one place that decides, for every public address of a page.

- public: everyone.
- private: page members (`user.has_perm("incidents.view_page", page)`) and named viewers.
- password: a visitor who entered the shared password.
- email_domain: a visitor who followed a sign-in link sent to an address in an allowed domain.
Named viewers of any non-public page sign in by the same link; page members always read.

A visitor's access is a signed, expiring cookie per page (django.core.signing, no session). Feeds and the
calendar also take a per-viewer `?token=` (signed, no expiry: feed readers keep the URL), which stops
working when the viewer is removed or the password changes. A viewer in an audience group sees only that
group's components and incidents (`Access.group_id`).
"""

import hashlib
from dataclasses import dataclass
from importlib import import_module

from django.conf import settings
from django.core import signing
from django.db.models import Q

from incidents.choices import Visibility
from incidents.models import AudienceGroup, Incident, Page, Viewer

COOKIE_PREFIX = "sp_access_"
FEED_SUFFIXES = (".atom", ".rss", ".ics")
PASSWORD = "pw"
EMAIL = "em"
MEMBER = "mb"


@dataclass(frozen=True)
class Access:
    group_id: int | None = None  # an audience group: only its components and incidents; None: everything
    grant: dict | None = None  # what the visitor holds (None for members and public pages)


EVERYTHING = Access()


def _salt(page: Page, purpose: str) -> str:
    return f"incidents.access.{purpose}:{page.code}"


def password_fingerprint(page: Page) -> str:
    """Changes with the password: a grant made under the old one is worth nothing."""
    return hashlib.sha256(page.password_hash.encode()).hexdigest()[:16]


def password_grant(page: Page) -> dict:
    return {"k": PASSWORD, "f": password_fingerprint(page)}


def email_grant(email: str) -> dict:
    return {"k": EMAIL, "e": email.lower()}


def cookie_name(page: Page) -> str:
    return COOKIE_PREFIX + page.code


def set_access_cookie(response, request, page: Page, grant: dict) -> None:
    response.set_cookie(
        cookie_name(page),
        signing.dumps(grant, salt=_salt(page, "cookie")),
        max_age=settings.PAGE_ACCESS_DAYS * 86400,
        secure=request.is_secure(),
        httponly=True,
        samesite="Lax",
    )


def feed_token(page: Page, grant: dict) -> str:
    return signing.dumps(grant, salt=_salt(page, "feed"))


def link_token(page: Page, email: str) -> str:
    return signing.dumps(email_grant(email), salt=_salt(page, "link"))


def read_link_token(page: Page, token: str) -> dict | None:
    try:
        return signing.loads(token, salt=_salt(page, "link"), max_age=settings.PAGE_ACCESS_LINK_MINUTES * 60)
    except signing.BadSignature:
        return None


def _grant_of(request, page: Page) -> dict | None:
    value = request.COOKIES.get(cookie_name(page))
    if value:
        try:
            return signing.loads(value, salt=_salt(page, "cookie"), max_age=settings.PAGE_ACCESS_DAYS * 86400)
        except signing.BadSignature:
            pass
    token = request.GET.get("token")
    if token and request.path.endswith(FEED_SUFFIXES):
        try:
            return signing.loads(token, salt=_salt(page, "feed"))
        except signing.BadSignature:
            pass
    return None


def may_sign_in_by_email(page: Page, email: str) -> Viewer | bool:
    """A named viewer (their row), or True for an address in an allowed domain, or False."""
    viewer = Viewer.objects.filter(page=page, email=email.lower()).select_related("group").first()
    return viewer or page.allows_domain(email)


def access_of_grant(page: Page, grant: dict) -> Access | None:
    """What a grant is worth now: the password may have changed, the viewer may be gone."""
    if not isinstance(grant, dict):
        return None
    if grant.get("k") == PASSWORD:
        ok = (
            page.visibility == Visibility.PASSWORD
            and page.password_hash
            and grant.get("f") == password_fingerprint(page)
        )
        return Access(grant=grant) if ok else None
    if grant.get("k") == MEMBER:  # a member's feed token: worth what their membership is worth now
        from django.contrib.auth import get_user_model

        user = get_user_model().objects.filter(pk=grant.get("u")).first()
        return Access(grant=grant) if _member(user, page) else None
    if grant.get("k") == EMAIL and isinstance(grant.get("e"), str):
        found = may_sign_in_by_email(page, grant["e"])
        if isinstance(found, Viewer):
            return Access(group_id=found.group_id, grant=grant)
        return Access(grant=grant) if found else None
    return None


def _user(request):
    """The signed-in user. Public addresses skip the session and auth middleware: read them here, for
    non-public pages only."""
    user = getattr(request, "user", None)
    if user is not None:
        return user
    if settings.SESSION_COOKIE_NAME not in request.COOKIES:
        return None
    from django.contrib.auth import get_user

    engine = import_module(settings.SESSION_ENGINE)
    request.session = engine.SessionStore(request.COOKIES[settings.SESSION_COOKIE_NAME])
    request.user = get_user(request)
    return request.user


def _member(user, page: Page) -> bool:
    return user is not None and user.is_authenticated and user.is_active and user.has_perm("incidents.view_page", page)


def access_for(request, page: Page) -> Access | None:
    """What this request may read of the page, or None: nothing."""
    if page.is_public:
        return EVERYTHING
    user = _user(request)
    if _member(user, page):
        return Access(grant={"k": MEMBER, "u": user.pk})  # the grant only names them in their feed token
    grant = _grant_of(request, page)
    return access_of_grant(page, grant) if grant is not None else None


# -- what an audience group sees ------------------------------------------------------------------------------


def access_of(request) -> Access:
    """The access the public view was called with (public pages: everything)."""
    return getattr(request, "page_access", EVERYTHING)


def component_ids(request) -> set[int] | None:
    """The ids of the components this request may see, or None: all of them."""
    group_id = access_of(request).group_id
    if group_id is None:
        return None
    return set(AudienceGroup.components.through.objects.filter(audiencegroup_id=group_id).values_list(
        "component_id", flat=True
    ))  # fmt: skip


def incident_filter(request) -> Q:
    """A filter on Incident for what this request may see: the group's incidents and those affecting one of
    its components."""
    group_id = access_of(request).group_id
    if group_id is None:
        return Q()
    seen = Incident.objects.filter(Q(audience_groups=group_id) | Q(components__audience_groups=group_id))
    return Q(pk__in=seen.values("pk"))


def feed_context(request) -> dict:
    """A template context processor: on a non-public page, the visitor's own feed and calendar addresses
    carry their token (`feed_query`), so a feed reader reads what they may read."""
    held = getattr(request, "page_access", None) if request is not None else None
    if held is None or held.grant is None:
        return {}
    page = getattr(request, "page_access_page", None)
    return {"feed_query": "?token=" + feed_token(page, held.grant)} if page is not None else {}


def visible_layout(request, rows: list, components: list) -> tuple[list, list]:
    """The page's rows and components (selectors.public_layout / page_layout) as this request may see them:
    a group keeps only the visible children, and goes when none is left."""
    ids = component_ids(request)
    if ids is None:
        return rows, components
    kept = []
    for row in rows:
        if row.component is not None:
            if row.component.pk in ids:
                kept.append(row)
            continue
        children = [c for c in row.children if c.pk in ids]
        if children:
            kept.append(type(row)(group=row.group, children=children))
    return kept, [c for c in components if c.pk in ids]


def visible_components(request, components: list) -> list:
    ids = component_ids(request)
    return components if ids is None else [c for c in components if c.pk in ids]


def trim_incidents(request, incidents: list) -> list:
    """Incidents loaded with selectors.with_details, their components and changes cut to what the request may
    see: another group's component is never named, even as one an incident affected."""
    ids = component_ids(request)
    if ids is not None:
        for incident in incidents:
            incident.component_list = [c for c in incident.component_list if c.pk in ids]
            for update in incident.timeline:
                update.changes = [c for c in update.changes if c.component_id in ids]
    return incidents
