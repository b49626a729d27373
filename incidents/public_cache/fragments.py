"""Pieces of the public pages rendered once and kept in this process's memory, under the very inputs they are
a function of (a component's row, a past incident): a render after a write redoes only what the write changed.

A key holds every value the piece's bytes depend on (names, statuses, the rollup rows, the page's zone and
addresses, the local day, …), never a version number someone must remember to bump: a write changes an input,
so its key, and the old piece is simply not asked for again (the least recently used go first). Nothing is
shared between processes and nothing needs Redis: each process fills its own in one render.
"""

from django.template import loader
from django.utils.translation import get_language

from incidents.public_cache.store import LocalEntries

FRAGMENT_BYTES = 8 * 1024 * 1024  # per process


def _size(item) -> int:
    """About the bytes a piece holds: an HTML text's length; a dict (an API object) about 64 bytes per key."""
    if isinstance(item, str):
        return len(item)
    return 64 * len(item) if isinstance(item, dict) else 64


pieces = LocalEntries(FRAGMENT_BYTES, size=_size)


def get(key: tuple):
    return pieces.get((get_language(), *key))  # a piece is in the language it was rendered in


def put(key: tuple, value) -> None:
    pieces.put((get_language(), *key), value)


def render(key: tuple, template_name: str, context: dict) -> str:
    """The piece under `key`, rendered from the template (and kept) if this process has not yet."""
    html = get(key)
    if html is None:
        html = loader.get_template(template_name).render(context)
        put(key, html)
    return html
