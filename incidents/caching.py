"""Public responses are a pure function of the page's state: cached and ETagged by the page's version.

A visitor's request costs one indexed query (the page row, for its version) and one cache read; a
conditional GET whose ETag still matches answers 304. The ETag also carries the current minute, since
"ongoing for 1h 5m" and "the last 15 days" move with the clock.
"""

import hashlib
from functools import wraps

from django.conf import settings
from django.core.cache import cache
from django.http import Http404, HttpResponse
from django.utils import timezone
from django.utils.cache import get_conditional_response, patch_cache_control, patch_vary_headers
from django.views.decorators.gzip import gzip_page

from incidents.models import Page

CACHE_TIMEOUT = 3600


def get_public_page(page_code: str | None) -> Page:
    pages = Page.objects
    try:
        if page_code is None:
            return pages.get(is_default=True)
        return pages.get(code=page_code)
    except Page.DoesNotExist:
        raise Http404("No such status page.") from None


def cache_path(request) -> str:
    """The address as the views read it: the path and the only query parameters they use, normalised.

    Anything else in the query string is ignored by the views, so it must not make a new cache entry
    (otherwise `/?x=1`, `/?x=2`, … would each cost a full render and a cache slot).
    """
    params = []
    number = request.GET.get("page", "")
    # ASCII digits only, as the history reads them (incidents.search.page_number): "²" or "٣" is page 1.
    if number.isascii() and number.isdigit() and number.lstrip("0") not in ("", "1"):
        params.append(f"page={number.lstrip('0')}")
    query = " ".join(request.GET.get("q", "").split())[:100]
    if query:
        params.append(f"q={query}")
    return request.path + ("?" + "&".join(params) if params else "")


def public_etag(page: Page, request, now) -> str:
    # updated_at guards against a version number seen before (a database restored from a backup).
    material = f"{page.code}:{page.version}:{page.updated_at.isoformat()}:{cache_path(request)}:{now:%Y%m%d%H%M}"
    return '"' + hashlib.sha256(material.encode()).hexdigest()[:32] + '"'


# Headers a cached response keeps besides its body (Content-Type, Content-Disposition, …); the rest is per request.
NOT_CACHED_HEADERS = {"set-cookie", "vary", "etag", "cache-control", "content-length", "expires", "last-modified"}


def public_view(view=None, *, max_age: int | None = None):
    """Resolve the page, answer 304 or a cached body when it can, and call the view only on a miss.

    The view is called as view(request, page, now, **kwargs) and returns an HttpResponse (a DRF Response
    or a TemplateResponse is rendered first). `max_age` overrides settings.PUBLIC_CACHE_MAX_AGE.
    """
    if view is None:
        return lambda view: public_view(view, max_age=max_age)

    @gzip_page  # public pages hold no secret, so compressing them is safe (no BREACH)
    @wraps(view)
    def wrapper(request, page_code: str | None = None, **kwargs):
        page = get_public_page(page_code)
        now = timezone.now()
        etag = public_etag(page, request, now)
        response = get_conditional_response(request, etag=etag)
        if response is None:
            key = f"public:{etag}"
            cached = cache.get(key)
            if cached is not None:
                content, headers = cached
                response = HttpResponse(content)
                for name, value in headers:
                    response[name] = value
            else:
                response = view(request, page, now, **kwargs)
                if hasattr(response, "render") and not response.is_rendered:
                    response.render()
                if response.status_code == 200 and not response.streaming:
                    headers = [(n, v) for n, v in response.items() if n.lower() not in NOT_CACHED_HEADERS]
                    cache.set(key, (response.content, headers), CACHE_TIMEOUT)
        if response.status_code not in (200, 304):
            return response  # an error from the view (e.g. an API's 404): not ETagged, not cached
        response["ETag"] = etag
        seconds = settings.PUBLIC_CACHE_MAX_AGE if max_age is None else max_age
        patch_cache_control(response, public=True, max_age=seconds, must_revalidate=True)
        patch_vary_headers(response, ["Accept-Encoding"])
        return response

    return wrapper
