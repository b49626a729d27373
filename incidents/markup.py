"""Markdown for update bodies and postmortems: rendered by `markdown`, sanitised by `nh3`.

No script, no event-handler attribute, no javascript: or data: URL survives into a page, a feed or an
email: whatever the Markdown contains, the HTML that comes out is checked against an allow-list.
"""

import re
import threading
import unicodedata
from functools import lru_cache

import markdown
import nh3

EXTENSIONS = ["tables", "fenced_code", "sane_lists", "nl2br"]

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "dd", "del", "dl", "dt", "em", "h1", "h2", "h3", "h4",
    "h5", "h6", "hr", "i", "kbd", "li", "ol", "p", "pre", "s", "strong", "sub", "sup", "table", "tbody",
    "td", "tfoot", "th", "thead", "tr", "ul",
}  # fmt: skip

ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "abbr": {"title"},
    "td": {"style"},
    "th": {"style"},
    "ol": {"start"},
}

URL_SCHEMES = {"http", "https", "mailto"}

CELL_ALIGNMENTS = {"left", "right", "center", "justify", "start", "end"}

_SCHEME = re.compile(r"([a-z][a-z0-9+.-]*):")


def _url_scheme(url: str) -> str | None:
    """The scheme a lenient reader could find: whitespace and control/format characters dropped.

    nh3 already refuses any URL whose parsed scheme is not allowed, but Python-Markdown expands a tab to spaces
    before nh3 sees it, so `java<TAB>script:` arrives as `java    script:`, which nh3 keeps as a relative URL.
    """
    compact = "".join(ch for ch in url if not (ch.isspace() or unicodedata.category(ch).startswith("C")))
    match = _SCHEME.match(compact.lower())
    return match.group(1) if match else None


def _text_align(style: str) -> str | None:
    """Only `text-align: <keyword>` (what the tables extension writes); nh3 keeps any value for an allowed property."""
    aligns = []
    for declaration in style.split(";"):
        prop, _, value = declaration.partition(":")
        if prop.strip().lower() == "text-align" and value.strip().lower() in CELL_ALIGNMENTS:
            aligns.append(value.strip().lower())
    return f"text-align:{aligns[-1]}" if aligns else None


def _filter_attribute(tag: str, attribute: str, value: str) -> str | None:
    if attribute == "href":
        scheme = _url_scheme(value)
        return value if scheme is None or scheme in URL_SCHEMES else None
    if attribute == "style":
        return _text_align(value)
    return value


def sanitise(html: str) -> str:
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        attribute_filter=_filter_attribute,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
        filter_style_properties={"text-align"},
        strip_comments=True,
    )


_local = threading.local()


def _converter() -> markdown.Markdown:
    """One Markdown instance per thread, reset between documents: building one costs as much as a render."""
    converter = getattr(_local, "converter", None)
    if converter is None:
        converter = _local.converter = markdown.Markdown(extensions=EXTENSIONS, output_format="html")
    return converter


@lru_cache(maxsize=4096)
def render_markdown(text: str) -> str:
    """Markdown to safe HTML. A pure function of the text, so each body is rendered once per process."""
    return sanitise(_converter().reset().convert(text or ""))
