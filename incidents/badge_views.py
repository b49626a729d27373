"""The badges' addresses: the page's and each component's status and uptime, as SVG (light and dark) and as
shields.io endpoint JSON. Public views like every other (cached, ETagged, published): each variant has a path
of its own (no query string), so the static copy holds each as a file.

    badge.svg  badge-dark.svg  badge.json
    badge/uptime-30.svg  badge/uptime-30.json  badge/uptime-90.svg  badge/uptime-90.json
    components/<id>/…    the same, for one component
"""

from django.http import Http404, HttpResponse, JsonResponse

from incidents import access, badges, selectors
from incidents.models import Component
from incidents.public_cache.views import public_view
from incidents.uptime import component_uptimes, percent_of, uptime_of

COMPONENT_PREFIX = "components/<slug:component_code>/"
SVG_TYPE = "image/svg+xml"


def _visible_components(request, page) -> list:
    return access.visible_layout(request, *selectors.page_layout(page))[1]


def _component(request, page, code: str):
    found = access.visible_components(request, list(Component.objects.filter(page=page, code=code)))
    if not found:
        raise Http404("No such component.")
    return found[0]


def uptime_percent(components, page, now, days: int) -> str | None:
    """The uptime over `days` days of these components together (each counted second of each component weighs
    the same): for one component, the very figure the uptime page shows."""
    counted = downtime = 0.0
    for item in component_uptimes(components, page.tz, now, days, names=False):
        seconds, down = item.totals
        counted, downtime = counted + seconds, downtime + down
    return percent_of(uptime_of(counted, downtime))


def page_badge(request, page, now, days: int | None) -> badges.Badge:
    components = _visible_components(request, page)
    if days:
        showcased = [c for c in components if c.showcase]  # those the uptime page shows
        return badges.uptime_badge("", uptime_percent(showcased, page, now, days), days)
    status = selectors.status_of(page, components, seen=access.incident_filter(request))
    return badges.indicator_badge(page.name, status.indicator, status.description)


def component_badge(request, page, now, days: int | None, code: str) -> badges.Badge:
    component = _component(request, page, code)
    if days:
        return badges.uptime_badge(component.name, uptime_percent([component], page, now, days), days)
    return badges.status_badge(component.name, component.status)


def answer(badge: badges.Badge, fmt: str, style: str) -> HttpResponse:
    if fmt == "json":
        return JsonResponse(badges.endpoint_json(badge))
    return HttpResponse(badges.svg(badge, style), content_type=SVG_TYPE)


def badge_view(fmt: str, style: str = badges.LIGHT, days: int | None = None, *, component: bool = False):
    def view(request, page, now, component_code: str | None = None):
        if component:
            return answer(component_badge(request, page, now, days, component_code), fmt, style)
        return answer(page_badge(request, page, now, days), fmt, style)

    view.__name__ = view.__qualname__ = f"badge_{fmt}_{style}_{days or 'status'}"
    return public_view(view)


def _variants() -> list[tuple[str, str, str, int | None, str]]:
    """(path, format, style, days, name) of every badge of one subject."""
    found = [
        ("badge.svg", "svg", badges.LIGHT, None, "badge"),
        ("badge-dark.svg", "svg", badges.DARK, None, "badge-dark"),
        ("badge.json", "json", badges.LIGHT, None, "badge-json"),
    ]
    for days in badges.UPTIME_WINDOWS:
        found += [
            (f"badge/uptime-{days}.svg", "svg", badges.LIGHT, days, f"badge-uptime-{days}"),
            (f"badge/uptime-{days}.json", "json", badges.LIGHT, days, f"badge-uptime-{days}-json"),
        ]
    return found


# (route, view, name), for incidents/urls.py's public_paths.
badge_paths = [(route, badge_view(fmt, style, days), name) for route, fmt, style, days, name in _variants()] + [
    (COMPONENT_PREFIX + route, badge_view(fmt, style, days, component=True), f"component-{name}")
    for route, fmt, style, days, name in _variants()
]
