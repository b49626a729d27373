"""A page's accent colour as a stylesheet, so that no page needs an inline <style> (statuspage.middleware's
Content-Security-Policy allows none). Pages in the default colour do not link it (templates/status/base.html).
Browsers may keep it ten minutes: a new colour reaches returning visitors within that time.
"""

import re

from django.http import HttpResponse

from incidents.public_cache.views import public_view

COLOUR = re.compile(r"#[0-9a-fA-F]{6}")
DEFAULT_ACCENT = "#1f5fbf"  # as in static/css/status.css and templates/status/base.html


@public_view(max_age=600)
def accent_css(request, page, now):
    colour = page.accent_colour if COLOUR.fullmatch(page.accent_colour or "") else DEFAULT_ACCENT
    return HttpResponse(f":root {{ --accent: {colour}; }}\n", content_type="text/css; charset=utf-8")
