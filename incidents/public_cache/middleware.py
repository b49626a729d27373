"""Public GET/HEAD requests skip the middleware they do not need.

Placed after SecurityMiddleware, WhiteNoise and XFrameOptionsMiddleware and before the session, CSRF,
auth and messages middleware: a GET or HEAD whose path resolves to a `public_view` is handed to that view
at once. Public views read no session, user or message and set no cookie, so nothing is lost; every other
request (the admin, the subscribe and manage forms, the manage API, an OPTIONS preflight) goes down the
whole chain as before. The Host header is still checked against ALLOWED_HOSTS, as CommonMiddleware would.
"""

from functools import lru_cache

from django.core.signals import setting_changed
from django.urls import Resolver404, get_urlconf, resolve

SAFE_METHODS = ("GET", "HEAD")


@lru_cache(maxsize=4096)
def _public_match(path: str, urlconf):
    try:
        match = resolve(path, urlconf)
    except Resolver404:
        return None
    return match if getattr(match.func, "public_cache", False) else None


def _forget_matches(*, setting, **kwargs):
    if setting == "ROOT_URLCONF":
        _public_match.cache_clear()


setting_changed.connect(_forget_matches)


class PublicPathMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method in SAFE_METHODS:
            match = _public_match(request.path_info, get_urlconf())
            if match is not None:
                request.get_host()  # DisallowedHost (400) for a host outside ALLOWED_HOSTS
                request.resolver_match = match
                return match.func(request, *match.args, **match.kwargs)
        return self.get_response(request)
