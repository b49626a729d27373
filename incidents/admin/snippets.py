"""The page's screen in the admin: the snippets to copy for its badges, the widget and the embed, each next to
a live preview of the real address (images and a frame of the page's own public paths)."""

from urllib.parse import quote

from django.conf import settings
from django.template.loader import render_to_string

from incidents.badges import UPTIME_WINDOWS
from incidents.models import Component, Page


def _address(page: Page, name: str, **kwargs) -> tuple[str, str]:
    """(the path, for the preview on this site; the absolute address, for the snippet)."""
    path = page.public_url(name, **kwargs)
    return path, settings.SITE_URL.rstrip("/") + path


def _badge(key: str, title: str, page_url: str, alt: str, path: str, url: str) -> dict:
    return {
        "key": key,
        "title": title,
        "preview": path,
        "markdown": f"[![{alt}]({url})]({page_url})",
        "html": f'<a href="{page_url}"><img src="{url}" alt="{alt}"></a>',
    }


def snippets(page: Page) -> dict:
    _, home = _address(page, "home")
    name = page.name
    badges = []
    for key, title, route in [
        ("status", "Status", "badge"),
        ("status-dark", "Status, dark", "badge-dark"),
        *[(f"uptime-{d}", f"Uptime, {d} days", f"badge-uptime-{d}") for d in UPTIME_WINDOWS],
    ]:
        badges.append(_badge(key, title, home, f"{name} status", *_address(page, route)))
    _, endpoint = _address(page, "badge-json")
    components = []
    for component in Component.objects.filter(page=page).order_by("position", "id"):
        path, url = _address(page, "component-badge", component_code=component.code)
        components.append(_badge(f"c-{component.code}", component.name, home, f"{component.name} status", path, url))
    embed_path, embed = _address(page, "embed")
    _, widget = _address(page, "widget")
    return {
        "page": page,
        "badges": badges,
        "components": components,
        "shields": f"https://img.shields.io/endpoint?url={quote(endpoint, safe='')}",
        "widget": f'<script src="{widget}" async data-position="bottom-right"></script>',
        "embed_preview": embed_path,
        "embed": f'<iframe src="{embed}" title="{name} status" width="100%" height="160" style="border:0"></iframe>',
    }


def snippets_html(page: Page) -> str:
    return render_to_string("admin/incidents/page_snippets.html", snippets(page))
