"""The status on other sites: /widget.js (a notice a customer's own pages show while something is open) and
/embed (a compact status view any site may frame). Public views like every other, so both are cached and
published: the static copy holds widget.js and embed/index.html under every page's root, and the widget reads
the api/v2/summary.json next to it.
"""

import re
from functools import wraps

from django.conf import settings
from django.contrib.staticfiles import finders
from django.http import HttpResponse
from django.shortcuts import render

from incidents.public_cache.views import public_view
from incidents.views import current_state

WIDGET_SOURCE = "js/widget.js"  # static/js/widget.js
FRAME_ANCESTORS = re.compile(r"frame-ancestors[^;]*")


@public_view(max_age=600)
def widget_js(request, page, now):
    """The widget's script at the page's own address (a static file of ours: the same bytes for every page; it
    reads the page it was loaded from). Browsers may keep it ten minutes."""
    with open(finders.find(WIDGET_SOURCE), "rb") as source:
        return HttpResponse(source.read(), content_type="application/javascript; charset=utf-8")


def embed_policy(ancestors: str = "*") -> str:
    """The site's Content-Security-Policy, but these sites may frame the page."""
    policy = settings.CONTENT_SECURITY_POLICY
    if not policy:
        return ""
    if FRAME_ANCESTORS.search(policy):
        return FRAME_ANCESTORS.sub(f"frame-ancestors {ancestors}", policy)
    return f"{policy}; frame-ancestors {ancestors}"


def frameable(view):
    """Lift X-Frame-Options and CSP frame-ancestors for this view's public answers. A non-public page's embed
    (marked private, shown to a signed-in viewer) may be framed by this site only (the admin's preview); its
    sign-in form (401) not at all. `wraps` keeps public_view's `public_cache` mark."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        if response.status_code not in (200, 304):
            return response
        if "private" in response.get("Cache-Control", ""):
            response["X-Frame-Options"] = "SAMEORIGIN"
            ancestors = "'self'"
        else:
            response.xframe_options_exempt = True
            ancestors = "*"
        policy = embed_policy(ancestors)
        if policy:
            response["Content-Security-Policy"] = policy
        return response

    return wrapper


@frameable
@public_view
def embed(request, page, now):
    _, _, open_incidents, in_progress, _, status, _ = current_state(request, page, now)
    context = {"page": page, "status": status, "open_incidents": open_incidents, "maintenances": in_progress}
    return render(request, "status/embed.html", context)
