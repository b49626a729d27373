"""Public responses are a pure function of the page's state: cached and ETagged by the page's version.

The implementation lives in incidents/public_cache/; these names are what the rest of the project uses.
"""

from incidents.public_cache.state import load_page, page_state_changed
from incidents.public_cache.views import address_of, etag_base, public_view


def get_public_page(page_code: str | None):
    """The Page at / (None) or /p/<code>/, or Http404 (for views that are not cached, e.g. subscribing)."""
    return load_page(page_code)


__all__ = ["address_of", "etag_base", "get_public_page", "page_state_changed", "public_view"]
