"""API keys: they belong to users and act with their user's permissions. Only a hash of the key is stored.

The table keeps the name it had when keys lived in the `api` app (api_apikey): moving the model moved no row."""

import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone

KEY_PREFIX = "sp_"
DISPLAY_LENGTH = 10


def hash_key(key: str) -> str:
    # Keys are 40 random characters: a fast hash is enough, as for session tokens.
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


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
    def issue(cls, user, name: str = "") -> tuple["ApiKey", str]:
        row = cls(user=user, name=name)
        key = row.set_new_key()
        row.save()
        return row, key

    def revoke(self) -> None:
        if self.revoked_at is None:
            self.revoked_at = timezone.now()
            ApiKey.objects.filter(pk=self.pk, revoked_at__isnull=True).update(revoked_at=self.revoked_at)
