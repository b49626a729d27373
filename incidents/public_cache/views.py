"""The public_view decorator: every public response is a pure function of (page version, address, minute).

A request resolves the page's state from the cache (`state.py`), derives the response's ETag from it
and answers 304 or serves stored bytes as they are (`store.py`, `encoding.py`): no query, no render, no
compression. Only a miss calls the view; its response is stored as it is and in the coding asked for, and in
another coding when first asked for (from the stored bytes, without a render). The ETag also
carries the current minute, since "ongoing for 1h 5m" and "the last 15 days" move with the clock: a page
costs one cold render per minute at most, and its entries expire soon after their minute has passed.
"""

import hashlib
import re
from functools import wraps

from django.conf import settings
from django.http import Http404, HttpResponse, HttpResponseNotModified
from django.http.response import ResponseHeaders
from django.utils import timezone
from django.utils.cache import patch_vary_headers

from incidents.choices import Visibility
from incidents.languages import speaking
from incidents.public_cache import budget, store
from incidents.public_cache.encoding import CODINGS, accepted_coding, compressible, encode, etag_for, matching_etag
from incidents.public_cache.state import PageState, load_page, page_state
from incidents.public_cache.store import LocalEntries

# The static publisher's renderer (incidents.publishing.site) renders from the page state it loads from
# the database, not from this process's reused copy (which may be PUBLIC_STATE_REUSE_MS old): it puts
# FRESH_TOKEN in the request's WSGI environ under FRESH. No visitor can: a header arrives as HTTP_*, and
# only this very object counts, never a string.
FRESH = "statuspage.fresh_state"
FRESH_TOKEN = object()

MAX_CACHED_LIST_PAGE = 20  # /history?page=N beyond this is rendered on demand (under the budget)
LIST_PAGE_PATH = re.compile(r"/history/page/(\d{1,9})$")

# Headers a stored response keeps besides its body (Content-Type, Content-Disposition, …); the rest is per request
# (and DRF's Allow, which a 200 does not need: a 405 carries its own).
NOT_CACHED_HEADERS = {
    "set-cookie", "vary", "etag", "cache-control", "content-length", "content-encoding", "expires", "last-modified",
    "allow",
}  # fmt: skip


def address_of(request) -> tuple[str, bool]:
    """The address as the views read it (the path and the only query parameters they use), and whether
    its answer may be stored.

    Anything else in the query string is ignored by the views, so it must not make a new entry (otherwise
    `/?x=1`, `/?x=2`, … would each cost a render and a cache slot). Searches and deep history pages are
    not stored: anyone could fill the cache with them.
    """
    if not request.META.get("QUERY_STRING"):
        listed = LIST_PAGE_PATH.search(request.path)  # /history/page/N: as ?page=N, deep pages are not stored
        return request.path, listed is None or int(listed.group(1)) <= MAX_CACHED_LIST_PAGE
    params, cacheable = [], True
    number = request.GET.get("page", "").lstrip("0")
    # ASCII digits only, as the history reads them (incidents.search.page_number): "²" or "٣" is page 1.
    if number.isascii() and number.isdigit() and number != "1":
        params.append(f"page={number}")
        cacheable = len(number) <= 3 and int(number) <= MAX_CACHED_LIST_PAGE
    query = " ".join(request.GET.get("q", "").split())
    if query:
        params.append(f"q={query}")
        cacheable = False
    return request.path + ("?" + "&".join(params) if params else ""), cacheable


def etag_base(state: PageState, address: str, now) -> str:
    material = f"{state.code}:{state.version}:{state.stamp}:{address}:{now:%Y%m%d%H%M}"
    return hashlib.sha256(material.encode()).hexdigest()[:32]


def representations(headers: list, body: bytes, codings=CODINGS) -> dict[str, store.Entry]:
    content_type = next((value for name, value in headers if name.lower() == "content-type"), "")
    if not compressible(content_type, len(body)):
        return dict.fromkeys(codings, ("identity", headers, body))  # e.g. a logo: sent as it is
    return {coding: (coding, headers, encode(body, coding)) for coding in codings}


def _recoded(base: str, coding: str) -> store.Entry | None:
    """The entry in `coding` made from the stored identity one, if the response was rendered already (each
    coding is compressed when first asked for: a render compresses only what its request takes)."""
    plain = store.get(base, "identity") if coding != "identity" else None
    if plain is None:
        return None
    entry = representations(plain[1], plain[2], (coding,))[coding]
    store.put(base, {coding: entry})
    return entry


def _validators(etag: str, max_age: int) -> dict[str, str]:
    return {"ETag": etag, "Cache-Control": f"public, max-age={max_age}, must-revalidate", "Vary": "Accept-Encoding"}


def _finish(response, etag: str, max_age: int, extra: tuple = ()):
    for name, value in (*_validators(etag, max_age).items(), *extra):
        response[name] = value
    return response


# A hit's headers, checked once (Django validates and encodes every header it is given, which cost a hit more
# than the rest of our work): (ETag base, coding, max-age, extra headers) -> ResponseHeaders' items.
prepared = LocalEntries(1024 * 1024, size=lambda items: 64 * len(items))


def _serve(entry: store.Entry, base: str, max_age: int, extra: tuple = ()) -> HttpResponse:
    coding, headers, body = entry
    key = (base, coding, max_age, extra)
    items = prepared.get(key)
    if items is None:
        checked = ResponseHeaders(dict(headers))
        if coding != "identity":
            checked["Content-Encoding"] = coding
        checked["Content-Length"] = str(len(body))
        for name, value in (*_validators(etag_for(base, coding), max_age).items(), *extra):
            checked[name] = value
        items = checked._store  # noqa: SLF001 - {lower name: (name, value)}, as ResponseHeaders keeps them
        prepared.put(key, items)
    response = HttpResponse(body)
    response.headers._store = dict(items)  # noqa: SLF001 - a copy: the middleware adds its own headers
    return response


def _busy() -> HttpResponse:
    response = HttpResponse(
        "Too many searches right now; please try again in a second.\n",
        status=429,
        content_type="text/plain; charset=utf-8",
    )
    response["Retry-After"] = "1"
    return response


def rendered(view, request, page, now, lang: str | None, kwargs: dict):
    """The view's response, rendered in the address's language (`lang`) or else the page's default one."""
    with speaking(page.default_language, lang):
        response = view(request, page, now, **kwargs)
        if hasattr(response, "render") and not response.is_rendered:
            response.render()
    return response


def restricted(view, request, page_code: str | None, lang: str | None, kwargs: dict):
    """A non-public page: the access check first (incidents.access), then a render for this visitor alone,
    never read from nor stored in the cache, and marked for no shared cache downstream."""
    from incidents.access import access_for
    from incidents.access_views import denied

    page = load_page(page_code)  # from the database: its visibility and password as they are now
    access = access_for(request, page)
    if access is None:
        with speaking(page.default_language, lang):
            return denied(request, page)
    request.page_access, request.page_access_page = access, page
    response = rendered(view, request, page, timezone.now(), lang, kwargs)
    response["Cache-Control"] = "private, no-store"
    patch_vary_headers(response, ["Cookie"])
    return response


def public_view(view=None, *, max_age: int | None = None, headers: dict | None = None):
    """Resolve the page, answer 304 or stored bytes when it can, and call the view only on a miss.

    The view is called as view(request, page, now, **kwargs) and returns an HttpResponse (a DRF Response
    or a TemplateResponse is rendered first). `max_age` overrides settings.PUBLIC_CACHE_MAX_AGE; `headers`
    are added to every answer, 304 included (the API's CORS headers). The
    wrapper is marked `public_cache`, so PublicPathMiddleware serves it without the session, CSRF, auth
    and messages middleware.
    """
    if view is None:
        return lambda view: public_view(view, max_age=max_age, headers=headers)
    extra = tuple((headers or {}).items())

    @wraps(view)
    def wrapper(request, page_code: str | None = None, lang: str | None = None, **kwargs):
        if request.META.get(FRESH) is FRESH_TOKEN:
            page = load_page(page_code)
            if not page.is_public:
                raise Http404("Not a public page: never published.")
            state = PageState.of(page)  # the stored entries under its ETag hold this version's bytes
        else:
            state, page = page_state(page_code)
            if state.visibility != Visibility.PUBLIC or (page is not None and not page.is_public):
                return restricted(view, request, page_code, lang, kwargs)
        now = timezone.now()
        address, cacheable = address_of(request)
        base = etag_base(state, address, now)
        coding = accepted_coding(request.META.get("HTTP_ACCEPT_ENCODING", ""))
        seconds = settings.PUBLIC_CACHE_MAX_AGE if max_age is None else max_age
        held = matching_etag(request.META.get("HTTP_IF_NONE_MATCH", ""), base, coding)
        if held is not None:
            return _finish(HttpResponseNotModified(), held, seconds, extra)
        entry = (store.get(base, coding) or _recoded(base, coding)) if cacheable else None
        if entry is None:
            if not cacheable and not budget.uncached.take():
                return _busy()
            page = page or load_page(pk=state.id)
            if not page.is_public:  # it stopped being public since its state was read: nothing from the cache
                return restricted(view, request, page_code, lang, kwargs)
            response = rendered(view, request, page, now, lang, kwargs)
            if response.status_code != 200 or response.streaming:
                return response  # an error from the view (e.g. an API's 404): not ETagged, not stored
            headers = [(name, value) for name, value in response.items() if name.lower() not in NOT_CACHED_HEADERS]
            codings = tuple(dict.fromkeys((coding, "identity"))) if cacheable else (coding,)
            entries = representations(headers, response.content, codings)
            if cacheable:
                store.put(base, entries)
            entry = entries[coding]
        return _serve(entry, base, seconds, extra)

    wrapper.public_cache = True
    return wrapper
