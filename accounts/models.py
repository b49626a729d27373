"""Per-page membership (a user's role on a page) and API keys.

A key belongs to a user and to some of that user's pages, and acts there with its user's role (or only reads, if
read-only). Only a hash of the key is stored. The key table keeps the name it had when keys lived in the `api` app
(api_apikey): moving the model moved no row."""

import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone

from incidents.models import Page

KEY_PREFIX = "sp_"
DISPLAY_LENGTH = 10


def hash_key(key: str) -> str:
    # Keys are 40 random characters: a fast hash is enough, as for session tokens.
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


class Role(models.TextChoices):
    RESPONDER = "responder", "Responder"
    PAGE_ADMIN = "page_admin", "Page admin"


class Membership(models.Model):
    """A user's role on one page. What the role allows is accounts.roles; superusers need none."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    page = models.ForeignKey(Page, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.RESPONDER)

    class Meta:
        ordering = ["page_id", "user_id"]
        constraints = [models.UniqueConstraint(fields=["user", "page"], name="one_membership_per_user_and_page")]

    def __str__(self):
        return f"{self.user} — {self.get_role_display()} of {self.page}"


class ApiKeyQuerySet(models.QuerySet):
    def active(self):
        return self.filter(revoked_at__isnull=True)


class ApiKey(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=100, blank=True, help_text="What the key is for, e.g. the monitoring tool.")
    prefix = models.CharField(max_length=DISPLAY_LENGTH, editable=False, help_text="The key's first characters.")
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)
    pages = models.ManyToManyField(
        Page, related_name="api_keys", help_text="The pages this key may reach (its user must be a member of each)."
    )
    read_only = models.BooleanField(default=False, help_text="A read-only key can read but never write.")

    objects = ApiKeyQuerySet.as_manager()

    class Meta:
        db_table = "api_apikey"
        verbose_name = "API key"
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.prefix}… ({self.name or self.user})"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    def set_new_key(self) -> str:
        """Give this (unsaved) row a fresh key; returns the key itself, which is shown once and never stored."""
        key = KEY_PREFIX + secrets.token_urlsafe(30)
        self.prefix = key[:DISPLAY_LENGTH]
        self.key_hash = hash_key(key)
        return key

    @classmethod
    def issue(cls, user, name: str = "", *, pages=None, read_only: bool = False) -> tuple["ApiKey", str]:
        """A new key for `user` on `pages` (default: every page the user may reach now)."""
        from accounts.roles import pages_of

        row = cls(user=user, name=name, read_only=read_only)
        key = row.set_new_key()
        row.save()
        row.pages.set(pages_of(user) if pages is None else pages)
        return row, key

    def revoke(self) -> bool:
        """Revoke the key (recorded in the audit log); false if it already was."""
        from accounts import audit

        now = timezone.now()
        if self.revoked_at is not None or not ApiKey.objects.filter(pk=self.pk, revoked_at__isnull=True).update(
            revoked_at=now
        ):
            return False
        self.revoked_at = now
        audit.record_change(self, {"revoked_at": None}, {"revoked_at": now.isoformat()})
        return True


class AuditAction(models.TextChoices):
    CREATED = "created", "Created"
    CHANGED = "changed", "Changed"
    DELETED = "deleted", "Deleted"


class AuditEntry(models.Model):
    """One write: who (a user, and the key when through the API), when, which object, values before and after.

    Written by accounts.audit for every audited model, whatever wrote it (admin, API, command, task). The page is
    kept as a bare id (no constraint), so entries outlive the page and its objects."""

    at = models.DateTimeField(default=timezone.now)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    api_key = models.ForeignKey("ApiKey", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    actor = models.CharField(max_length=200, help_text="Who, as it read at the time (user, key, or system).")
    page = models.ForeignKey(
        Page, on_delete=models.DO_NOTHING, db_constraint=False, null=True, blank=True, related_name="+"
    )
    object_type = models.CharField(max_length=100)
    object_id = models.CharField(max_length=64)
    object_repr = models.CharField(max_length=200)
    action = models.CharField(max_length=16, choices=AuditAction.choices)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name_plural = "audit log"
        indexes = [
            # The admin's list of a page's entries, newest first.
            models.Index(fields=["page", "-at"], name="audit_page_at"),
        ]

    def __str__(self):
        return f"{self.actor} {self.action} {self.object_type} {self.object_repr}"
