"""A site worth publishing (the two demo pages, one with two history pages and a logo) and checks on the copy."""

import copy
import uuid
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urljoin, urlsplit

import pytest
import time_machine
from django.conf import settings

from incidents import services
from incidents.choices import IncidentStatus
from incidents.management.demo_data import BEACONLY, CHIRPDESK, load_demo
from incidents.models import Component, Incident, Page
from incidents.page_services import page_set_logo

NOW = datetime(2026, 3, 14, 12, 0, tzinfo=UTC)
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32

# The page-wide addresses every page has, as files (its own incidents come on top).
PAGE_FILES = [
    "index.html",
    "uptime/index.html",
    "history/index.html",
    "history.atom",
    "history.rss",
    "maintenance.ics",
    "accent.css",
    "api/v2/summary.json",
    "api/v2/status.json",
    "api/v2/components.json",
    "api/v2/incidents.json",
    "api/v2/incidents/unresolved.json",
    "api/v2/scheduled-maintenances.json",
    "api/v2/scheduled-maintenances/upcoming.json",
    "api/v2/scheduled-maintenances/active.json",
    "widget.js",
    "embed/index.html",
]
# Every subject's badges (the page's at its root, each component's under components/<id>/).
BADGE_FILES = ["badge.svg", "badge-dark.svg", "badge.json"] + [
    f"badge/uptime-{days}{variant}" for days in (30, 90) for variant in (".svg", ".json")
]


def own_cache(settings) -> None:
    """A cache of this test's own: with the clock frozen, the public pages' ETags (page code, version, time)
    repeat from test to test, so a Redis cache shared by the run would answer with another test's pages."""
    caches = copy.deepcopy(settings.CACHES)
    caches["default"]["KEY_PREFIX"] = f"{caches['default'].get('KEY_PREFIX', '')}-publishing-{uuid.uuid4().hex[:12]}"
    settings.CACHES = caches


def build_site() -> dict[str, Page]:
    """The demo pages; the second gets 25 old incidents (two history pages) and a logo."""
    pages = load_demo()
    other = next(p for p in pages if not p.is_default)
    for n in range(25):
        services.incident_create(
            page=other,
            name=f"Old incident {n}",
            body="Something broke.",
            status=IncidentStatus.RESOLVED,
            display_at=NOW - timedelta(days=100 + n),
            deliver_notifications=False,
        )
    page_set_logo(page=other, data=PNG)
    return {p.code: Page.objects.get(pk=p.pk) for p in pages}


def expected_files(page: Page) -> dict[str, str]:
    """file in the published tree → the address the live site serves it at, for one page."""
    names = list(PAGE_FILES) + BADGE_FILES
    for code in Component.objects.filter(page=page).values_list("code", flat=True):
        names += [f"components/{code}/{name}" for name in BADGE_FILES]
    for code in Incident.objects.filter(page=page).values_list("code", flat=True):
        names += [f"incidents/{code}/index.html", f"api/v2/incidents/{code}.json"]
    if Incident.objects.filter(page=page).count() > 20:
        names.append("history/page/2/index.html")
    if page.logo_type:
        names.append("logo")
    prefixes = [f"p/{page.code}/"] + ([""] if page.is_default else [])
    found = {prefix + name: "/" + prefix + address(name) for prefix in prefixes for name in names}
    # Every language's tree holds the addresses with words in them (not the API, the logo, accent.css, the
    # badges or the widget: incidents.languages.LOCALIZED).
    unworded = ("api/", "components/", "badge", "accent.css", "logo", "widget.js")
    worded = [name for name in names if not name.startswith(unworded)]
    for code, _ in settings.LANGUAGES:
        found |= {
            f"{code}/{prefix}{name}": f"/{code}/{prefix}{address(name)}" for prefix in prefixes for name in worded
        }
    return found


def address(name: str) -> str:
    """The path of a published file on the live site: `history/index.html` is `history`, `index.html` is ``."""
    return "" if name == "index.html" else name.removesuffix("/index.html")


def published_files(root: Path) -> set[str]:
    """Every file a visitor can reach (not the publisher's own state under .publish-state/)."""
    files = {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}
    return {f for f in files if not f.startswith(".publish-state/")}


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name in ("href", "src") and value:
                self.links.append(value)


def internal_links(html: str, base_url: str, site_url: str) -> list[str]:
    """Every href/src of a page that stays on the site, as an absolute path (query and fragment kept)."""
    parser = _Links()
    parser.feed(html)
    site = urlsplit(site_url)
    found = []
    for link in parser.links:
        if link.startswith("#"):
            continue  # a place in the same document (the icon sprite, skip link)
        absolute = urlsplit(urljoin(site_url + base_url, link))
        if absolute.scheme not in ("http", "https") or absolute.netloc != site.netloc:
            continue  # another site, mailto:, …
        found.append(absolute.path + (f"?{absolute.query}" if absolute.query else ""))
    return found


def file_serving(root: Path, path: str) -> Path | None:
    """The published file a static server answers `path` with (clean URLs, index.html), or None."""
    if "?" in path:
        return None  # a static server ignores the query: such a link would show the wrong content
    relative = path.lstrip("/")
    candidates = (
        [relative + "index.html"] if relative == "" or relative.endswith("/") else [relative, relative + "/index.html"]
    )
    for candidate in candidates:
        if (root / candidate).is_file():
            return root / candidate
    return None


# A published demo site (two pages) in a temporary directory, with a cache of its own: the tests of publishing share it.
@pytest.fixture
def site(db, settings, tmp_path):
    settings.PUBLISH_TARGET = None
    own_cache(settings)
    with time_machine.travel(NOW, tick=False):
        pages = build_site()
        root = tmp_path / "site"
        settings.PUBLISH_TARGET = f"file://{root}"
        yield SimpleNamespace(pages=pages, root=root, default=pages[CHIRPDESK], other=pages[BEACONLY])
