"""Who calls the manage API and how often: API key authentication and a per-key rate limit.

What a key may do is api/permissions.py: its user's Django permissions."""

import time
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication
from rest_framework.throttling import BaseThrottle

from accounts.models import ApiKey, hash_key

# last_used_at is written at most this often per key, not on every request.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def _presented_key(request) -> str | None:
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if header:
        scheme, _, value = header.partition(" ")
        if scheme.lower() in ("oauth", "bearer") and value.strip():
            return value.strip()
        return None
    if not settings.API_KEY_IN_QUERY:
        return None
    return request.query_params.get("api_key") or None


class ApiKeyAuthentication(BaseAuthentication):
    """`Authorization: OAuth <key>`, `Authorization: Bearer <key>` or `?api_key=<key>` (unless API_KEY_IN_QUERY is
    off: then a key in the URL is not looked at, and the request has no key)."""

    def authenticate(self, request):
        header = request.META.get("HTTP_AUTHORIZATION", "")
        key = _presented_key(request)
        if key is None:
            if header:
                raise exceptions.AuthenticationFailed("Use the header Authorization: OAuth <api key>.")
            return None
        row = ApiKey.objects.select_related("user").prefetch_related("pages").filter(key_hash=hash_key(key)).first()
        if row is None or row.is_revoked or not row.user.is_active:
            raise exceptions.AuthenticationFailed("Invalid or revoked API key.")
        now = timezone.now()
        if row.last_used_at is None or row.last_used_at < now - LAST_USED_RESOLUTION:
            ApiKey.objects.filter(pk=row.pk).update(last_used_at=now)
        return row.user, row

    def authenticate_header(self, request):
        return 'OAuth realm="api"'


def parse_rate(rate: str) -> tuple[int, int]:
    """1000/minute → (1000, 60)."""
    count, _, period = rate.partition("/")
    seconds = {"s": 1, "m": 60, "h": 3600, "d": 86400}[period.strip()[:1].lower()]
    return int(count), seconds


class ApiKeyRateThrottle(BaseThrottle):
    """A fixed window per key, counted in the Django cache (shared by every process when it is Redis)."""

    def allow_request(self, request, view):
        if not isinstance(request.auth, ApiKey):
            return True
        limit, period = parse_rate(settings.API_RATE_LIMIT)
        now = time.time()
        window = int(now // period)
        key = f"api-rate:{request.auth.key_hash[:32]}:{window}"
        cache.add(key, 0, period + 5)
        try:
            count = cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, period + 5)
            count = 1
        self._wait = (window + 1) * period - now
        # With Redis down (its errors are ignored), the count is unknown: let the request through.
        return not isinstance(count, int) or count <= limit

    def wait(self):
        return max(1, int(self._wait + 0.999))
