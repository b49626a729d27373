"""What the static copy holds, rendered through the real views (the URLconf, its middleware and caches).

Every public address of a page becomes a file: `/history` → `history/index.html`, `/history.atom` →
`history.atom`, `/api/v2/incidents/<code>.json` → the same path. The addresses are read from the URLconf
(every view behind public_view), so a new public view is published too.
"""

import functools
import math
import re
import threading
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.staticfiles import finders
from django.contrib.staticfiles.storage import staticfiles_storage
from django.test import Client
from django.utils import timezone

from incidents.languages import LOCALIZED
from incidents.models import Component, Incident, Page
from incidents.publishing.target import TEMP_PREFIX


class PublishError(RuntimeError):
    pass


class Gone(PublishError):
    """An incident deleted while its page was being published: the next publication removes its files."""


@dataclass(frozen=True)
class Entry:
    url: str  # the address on the live site, e.g. /p/abc/history/page/2
    file: str  # the file in the published tree, e.g. p/abc/history/page/2/index.html
    key: str | None = None  # what it shows, if it may be skipped when that did not change: an incident's code,
    # or history/<n> for an older history page


PAGE_PREFIX = "p/<slug:page_code>/"
LANGUAGE_PREFIX = "<lang:lang>/"  # the same addresses in another language: page_entries(lang=…) spells them out


def _routes() -> list[tuple[str, str]]:
    """(route, name) of every public address of a page, as the URLconf serves them at / (and under /p/<id>/).

    Read from the URLconf itself (every view wrapped by public_view is marked `public_cache`), so that
    this app imports nothing from the api app above it.
    """
    from django.urls import URLResolver, get_resolver

    found = []

    def walk(patterns, prefix: str) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, prefix + str(pattern.pattern))
            elif getattr(pattern.callback, "public_cache", False):
                route = prefix + str(pattern.pattern)
                if not route.startswith((PAGE_PREFIX, LANGUAGE_PREFIX)):
                    found.append((route, pattern.name))

    walk(get_resolver().url_patterns, "")
    return found


def file_for(route_path: str) -> str:
    """The file that holds an address: an address whose last part has no extension is a directory's index."""
    last = route_path.rsplit("/", 1)[-1]
    if route_path == "" or route_path.endswith("/"):
        return route_path + "index.html"
    if "." in last or last == "logo":
        return route_path
    return route_path + "/index.html"


def history_pages(page: Page, now) -> int:
    from incidents.views import HISTORY_PER_PAGE

    count = Incident.objects.filter(page=page, started_at__lte=now).count()
    return max(1, math.ceil(count / HISTORY_PER_PAGE))


def page_entries(
    page: Page, url_prefix: str, incident_codes: list[str], now, *, lang: str | None = None
) -> list[Entry]:
    """Every address of `page` under `url_prefix` ("/" or "/p/<id>/"), with its file; with `lang` ("fr"), the
    addresses that have words in them under /fr/ ("/fr/", "/fr/p/<id>/"), in that language."""
    if lang:
        url_prefix = f"/{lang}{url_prefix}"
    file_prefix = url_prefix.lstrip("/")
    entries = []
    component_codes = list(Component.objects.filter(page=page).order_by("id").values_list("code", flat=True))

    def add(path: str, key: str | None = None):
        entries.append(Entry(url_prefix + path, file_prefix + file_for(path), key))

    for route, name in _routes():
        if lang and name not in LOCALIZED:
            continue  # the logo, accent.css and the API are the same in every language: at the root only
        if "<" not in route:
            if name == "logo" and not page.logo_type:
                continue
            add(route)
        elif name == "history-page":
            for number in range(2, history_pages(page, now) + 1):
                add(route.replace("<int:number>", str(number)), key=f"history/{number}")
        elif "<slug:code>" in route:
            for code in incident_codes:
                add(route.replace("<slug:code>", code), key=code)
        elif COMPONENT in route:  # its badges
            for code in component_codes:
                add(route.replace(COMPONENT, code), key=component_key(code))
    return entries


COMPONENT = "<slug:component_code>"
PLACEHOLDERS = {"<slug:code>": "[-a-zA-Z0-9_]+", "<int:number>": "[0-9]+", COMPONENT: "[-a-zA-Z0-9_]+"}


def component_key(code: str) -> str:
    """The key of a component's files in the publish state (incidents.publishing.run.component_digests)."""
    return f"component/{code}"


@functools.cache
def _page_file_names() -> re.Pattern:
    parts = []
    for route, _ in _routes():
        pattern = re.escape(file_for(route))
        for placeholder, regex in PLACEHOLDERS.items():
            pattern = pattern.replace(re.escape(placeholder), regex)
        parts.append(pattern)
    return re.compile("|".join(parts))


def is_page_file(name: str) -> bool:
    """Whether `name` (relative to a page's tree) is a file page_entries can produce, or a temporary file
    of ours left by a crash: only those are ever pruned, so an operator's robots.txt or a site
    verification file next to the default page's files stays."""
    return bool(_page_file_names().fullmatch(name)) or name.rsplit("/", 1)[-1].startswith(TEMP_PREFIX)


_clients = threading.local()


class Renderer:
    """GETs addresses through the real views, with the host of SITE_URL, as a visitor would (but with the
    page's state freshly loaded, never a copy reused for PUBLIC_STATE_REUSE_MS).

    The client (and so the loaded middleware: WhiteNoise scans the static files when it starts) is kept
    per thread and SITE_URL, so a worker pays for it once, not per publication.
    """

    def __init__(self):
        site = urlsplit(settings.SITE_URL)
        key = (site.netloc, site.scheme)
        if getattr(_clients, "key", None) != key:
            _clients.client = Client(HTTP_HOST=site.netloc, secure=site.scheme == "https")
            _clients.key = key
        self.client = _clients.client

    def get(self, url: str) -> tuple[bytes, str]:
        from incidents.public_cache.views import FRESH, FRESH_TOKEN

        # The page's state as the database has it now: the digests recorded with these bytes are read from it.
        response = self.client.get(url, **{FRESH: FRESH_TOKEN})
        if response.status_code == 400:
            raise PublishError(f"{url} answered 400: is the host of SITE_URL ({settings.SITE_URL}) in ALLOWED_HOSTS?")
        if response.status_code == 404:
            raise Gone(f"{url} answered 404, not 200")
        if response.status_code != 200:
            raise PublishError(f"{url} answered {response.status_code}, not 200")
        if response.streaming:
            return b"".join(response.streaming_content), response["Content-Type"]
        return response.content, response["Content-Type"]


STATIC_LINK = re.compile(rb"""(?:href|src)=["']([^"'?#]+)""")


def static_files(html: bytes) -> set[str]:
    """The static assets (stylesheets, images, scripts) a page links to, by their path under STATIC_URL."""
    base = "/" + settings.STATIC_URL.lstrip("/") if "://" not in settings.STATIC_URL else None
    if base is None:
        return set()  # assets served from elsewhere (a CDN): nothing to copy
    found = set()
    for match in STATIC_LINK.finditer(html):
        url = match.group(1).decode()
        if url.startswith(base):
            found.add(url[len(base) :])
    return found


def read_static(name: str) -> bytes | None:
    """An asset's bytes: from the collected (hashed) files when there are some, else from the app's sources."""
    try:
        if staticfiles_storage.exists(name):
            with staticfiles_storage.open(name) as handle:
                return handle.read()
    except (OSError, ValueError):
        pass
    path = finders.find(name)
    if path:
        with open(path, "rb") as handle:
            return handle.read()
    return None


@dataclass
class Result:
    written: list[str] = field(default_factory=list)
    unchanged: int = 0
    deleted: list[str] = field(default_factory=list)
    rendered: int = 0


def now():
    return timezone.now()
