"""What a cached hit needs to know about a page (id, code, version, last change), without the database.

The state lives in the cache under the page's code (and, for the default page, under "@default" too).
A writer clears it inside its transaction and sets it again once the transaction commits
(`page_changed`), so a reader never pairs new content with an old version nor the reverse. A reader that
finds nothing reads the page row and puts the state back with `add` (never overwriting a writer's newer
value). The state also expires after a few seconds, which bounds how long a lost update (Redis down at the
moment of a write, two writers' after-commit hooks running in reverse order) can last.

Each process also keeps the state it read for PUBLIC_STATE_REUSE_MS (default 500 ms), so that a hit
costs no round trip to Redis at all (a Redis GET costs more than the rest of a hit). The writing process
forgets its copy at once; the others see a change within that time. 0 asks the shared cache every time.
"""

import time
from typing import NamedTuple

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.http import Http404

from incidents.models import Page

STATE_TIMEOUT = 5  # seconds; see the module's docstring
DEFAULT = "@default"


class PageState(NamedTuple):
    id: int
    code: str
    version: int
    stamp: str  # updated_at: guards against a version number seen before (a database restored from a backup)
    # Not "public": nothing is served from or stored in the cache; incidents.access decides per request.
    visibility: str = "public"

    @classmethod
    def of(cls, page: Page) -> "PageState":
        return cls(page.pk, page.code, page.version, page.updated_at.isoformat(), page.visibility)


def state_key(page_code: str | None) -> str:
    return f"public:page:{page_code or DEFAULT}"


# key → (monotonic deadline, state): this process's copies (one per page and the default page).
reused: dict[str, tuple[float, PageState]] = {}


def page_state(page_code: str | None) -> tuple[PageState, Page | None]:
    """The page's state, from the cache or else from the database (then the Page too, to render with)."""
    key = state_key(page_code)
    reuse = settings.PUBLIC_STATE_REUSE_MS / 1000
    if reuse:
        held = reused.get(key)
        if held is not None and held[0] > time.monotonic():
            return held[1], None
    page = None
    state = cache.get(key)
    if not isinstance(state, PageState):
        page = load_page(page_code)
        state = PageState.of(page)
        cache.add(key, state, STATE_TIMEOUT)
    if reuse:
        reused[key] = (time.monotonic() + reuse, state)
    return state, page


def _forget(keys) -> None:
    for key in keys:
        reused.pop(key, None)


def load_page(page_code: str | None = None, *, pk: int | None = None) -> Page:
    pages = Page.objects.defer("logo")
    try:
        if pk is not None:
            return pages.get(pk=pk)
        if page_code is None:
            return pages.get(is_default=True)
        return pages.get(code=page_code)
    except Page.DoesNotExist:
        raise Http404("No such status page.") from None


def page_state_changed(page_id: int) -> None:
    """Called by every write inside its transaction, after the version bump: forget now, publish on commit."""
    row = Page.objects.filter(pk=page_id).values_list("code", "is_default").first()
    if row is None:
        return
    code, is_default = row
    keys = [state_key(code)] + ([state_key(None)] if is_default else [])
    _forget(keys)
    cache.delete_many(keys)
    transaction.on_commit(lambda: publish_state(page_id))


def publish_state(page_id: int) -> None:
    """After commit: put the committed state in the cache, so that the next hit needs no query."""
    page = Page.objects.defer("logo").filter(pk=page_id).first()
    if page is None:
        return
    state = PageState.of(page)
    values = {state_key(page.code): state}
    if page.is_default:
        values[state_key(None)] = state
    _forget(values)
    cache.set_many(values, STATE_TIMEOUT)


def forget_local() -> None:
    """Drop this process's copies of page states and responses (tests: after the database was rolled back)."""
    from incidents.public_cache import fragments, store

    reused.clear()
    store.local.clear()
    fragments.pieces.clear()
