"""Write path for who may read a page: its visibility, shared password, allowed domains, viewers and groups.

Same rules as the other services: validate first, one transaction, bump the page's version (so no cached
answer of the old visibility is served again, and the static copy is republished or removed).
"""

import re

from django.contrib.auth.hashers import make_password
from django.core.exceptions import ValidationError
from django.db import transaction

from incidents.choices import Visibility
from incidents.models import AudienceGroup, Page, Viewer, split_domains
from incidents.services.pages import page_changed
from incidents.validation import require_choice

DOMAIN_RE = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
MIN_PASSWORD_LENGTH = 8


def clean_domains(text: str) -> str:
    """One domain per line, lowercased; a clear error naming what is not a domain."""
    domains = split_domains(text)
    bad = [d for d in domains if not DOMAIN_RE.match(d)]
    if bad:
        raise ValidationError({"allowed_domains": f"Not a domain name: {', '.join(bad)}."})
    return "\n".join(dict.fromkeys(domains))


def check_password_text(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationError({"password": f"The password must have at least {MIN_PASSWORD_LENGTH} characters."})


def check_access(visibility: str, *, has_password: bool, domains: list[str]) -> None:
    """What each visibility needs: a password page a password, an email-domain page a domain."""
    if visibility == Visibility.PASSWORD and not has_password:
        raise ValidationError({"password": "A page protected by a password needs one."})
    if visibility == Visibility.EMAIL_DOMAIN and not domains:
        raise ValidationError({"allowed_domains": "Name at least one domain whose addresses may sign in."})


@transaction.atomic
def page_set_access(
    *, page: Page, visibility: str, password: str | None = None, allowed_domains: str | None = None
) -> Page:
    """Set who may read the page. `password` (if given) replaces the shared one; a password page needs one,
    an email-domain page at least one domain. Nothing changes if anything is wrong."""
    require_choice(visibility, Visibility, "visibility")
    page = Page.objects.select_for_update().get(pk=page.pk)
    if password is not None:
        check_password_text(password)
        page.password_hash = make_password(password)
    if allowed_domains is not None:
        page.allowed_domains = clean_domains(allowed_domains)
    check_access(visibility, has_password=bool(page.password_hash), domains=page.domain_list())
    page.visibility = visibility
    page.save(update_fields=["visibility", "password_hash", "allowed_domains", "updated_at"])
    page_changed(page.pk)
    page.refresh_from_db()
    return page


@transaction.atomic
def viewer_add(*, page: Page, email: str, group: AudienceGroup | None = None) -> Viewer:
    viewer = Viewer(page=page, email=email.strip().lower(), group=group)
    viewer.full_clean()
    viewer.save()
    page_changed(page.pk)
    return viewer


@transaction.atomic
def audience_group_create(*, page: Page, name: str, components=(), incidents=()) -> AudienceGroup:
    group = AudienceGroup(page=page, name=name)
    group.full_clean()
    group.save()
    audience_group_set_scope(group=group, components=components, incidents=incidents)
    return group


@transaction.atomic
def audience_group_set_scope(*, group: AudienceGroup, components=(), incidents=()) -> None:
    """What the group sees: components and incidents of its own page only."""
    foreign = [o for o in [*components, *incidents] if o.page_id != group.page_id]
    if foreign:
        raise ValidationError(f"{foreign[0]} belongs to another page.")
    group.components.set(components)
    group.incidents.set(incidents)
    page_changed(group.page_id)


def page_access_changed(page: Page) -> None:
    """After the admin saved viewers or groups of the page (its inlines): the page's answers change."""
    with transaction.atomic():
        page_changed(page.pk)
