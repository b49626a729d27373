"""Writes of accounts: roles on pages and API keys (each one transaction; bad input raises ValidationError)."""

from django.core.exceptions import ValidationError
from django.db import transaction

from accounts.models import ApiKey, Membership, Role
from accounts.roles import pages_of


def member_set(*, user, page, role: str) -> Membership:
    """Give the user this role on the page (replacing the one they had there), and make them staff."""
    if role not in Role.values:
        raise ValidationError(f"Unknown role {role!r}: use {' or '.join(Role.values)}.")
    with transaction.atomic():
        membership, _ = Membership.objects.update_or_create(user=user, page=page, defaults={"role": role})
        if not user.is_staff:
            type(user).objects.filter(pk=user.pk).update(is_staff=True)
            user.is_staff = True
    user.__dict__.pop("_page_roles", None)
    return membership


def api_key_issue(*, user, name: str = "", pages=None, read_only: bool = False) -> tuple[ApiKey, str]:
    """A new key of `user` on `pages` (default: every page the user may reach now); returns it and the key, shown
    once. A page the user is not a member of is refused."""
    reachable = pages_of(user)
    pages = list(reachable if pages is None else pages)
    if not pages:
        raise ValidationError(f"{user} is a member of no page: give them a role on a page first.")
    allowed = set(reachable.filter(pk__in=[p.pk for p in pages]).values_list("pk", flat=True))
    outside = [str(p) for p in pages if p.pk not in allowed]
    if outside:
        raise ValidationError(f"{user} is not a member of {', '.join(outside)}.")
    with transaction.atomic():
        return ApiKey.issue(user, name=name, pages=pages, read_only=read_only)
