"""Status badges: what a badge says (label, message, colour) and how it is drawn (SVG) or handed to shields.io
(endpoint JSON). Pure functions of their inputs; the views are in incidents/badge_views.py.

Colours come from the page itself: a status's colour name is COMPONENT_COLOUR's (the page indicator reads like
the component status INDICATOR_COMPONENT_STATUS names), its light shade is status.css's (COLOUR_HEX). The dark
style uses brighter shades of the same names, for dark backgrounds.
"""

import unicodedata
from dataclasses import dataclass

from django.template import loader
from django.utils.translation import gettext as _

from incidents.choices import COLOUR_HEX, COMPONENT_COLOUR, INDICATOR_COMPONENT_STATUS, ComponentStatus

LIGHT, DARK = "light", "dark"
STYLES = (LIGHT, DARK)
UPTIME_WINDOWS = (30, 90)  # days; the uptime page shows 90
GREY = "grey"  # no data yet

PALETTES = {
    LIGHT: {"label": "#4a5361", "label_text": "#ffffff", "text": "#ffffff", **COLOUR_HEX, GREY: "#6b7280"},
    DARK: {
        "label": "#2d333b", "label_text": "#e6edf3", "text": "#0d1117",
        "green": "#3fb950", "yellow": "#d29922", "orange": "#f0883e", "red": "#f85149", "blue": "#58a6ff",
        GREY: "#8b949e",
    },
}  # fmt: skip

# Uptime colours: at least this percentage → this colour (else red).
UPTIME_LEVELS = ((99.9, "green"), (99.0, "yellow"), (95.0, "orange"))

# Widths of Verdana at 11 px (what the badge's font-family asks for first), in pixels; other characters count
# as DEFAULT_WIDTH, wide East Asian ones as WIDE. The text is also drawn with textLength, so it fits its box.
_WIDTHS = {
    **dict.fromkeys("abdeghknopquvxy", 6.8), **dict.fromkeys("cksz", 5.9), "f": 3.9, "i": 3.0, "j": 3.8,
    "l": 3.0, "m": 10.7, "r": 4.7, "t": 4.3, "w": 8.9, **dict.fromkeys("0123456789", 7.0),
    **dict.fromkeys("ABCDEFGHJKLNOPQRSTUVXYZ", 7.5), "I": 4.6, "M": 8.6, "W": 10.9,
    " ": 3.9, ".": 3.9, ",": 3.9, ":": 3.9, ";": 3.9, "'": 3.0, "!": 3.9, "|": 3.9, "%": 11.9,
    "(": 4.5, ")": 4.5, "-": 4.5, "/": 4.9, "&": 7.8, "@": 11.0, "_": 7.0,
}  # fmt: skip
DEFAULT_WIDTH, WIDE = 7.5, 11.0
PADDING = 6  # pixels either side of each text
HEIGHT = 20


@dataclass(frozen=True)
class Badge:
    label: str
    message: str
    colour: str  # a colour name: green, yellow, orange, red, blue or grey


def text_width(text: str) -> int:
    width = 0.0
    for char in text:
        if char in _WIDTHS:
            width += _WIDTHS[char]
        elif unicodedata.east_asian_width(char) in "WF":
            width += WIDE
        elif not unicodedata.combining(char):
            width += DEFAULT_WIDTH
    return round(width)


def _clean(text: str) -> str:
    """One line of printable text (XML 1.0 allows no control character; a badge has no room for two lines)."""
    return " ".join("".join(c if c.isprintable() else " " for c in text).split())


def status_badge(label: str, status: str) -> Badge:
    """A component's badge: its name and status, in the status's colour."""
    return Badge(label, str(ComponentStatus(status).label), COMPONENT_COLOUR[status])


def indicator_badge(label: str, indicator: str, description: str) -> Badge:
    """The page's badge: the status line's description, in the colour of the status it reads like."""
    return Badge(label, description, COMPONENT_COLOUR[INDICATOR_COMPONENT_STATUS[indicator]])


def uptime_badge(label: str, percent: str | None, days: int) -> Badge:
    """`percent` as the uptime page shows it ("99.98"), or None (no data yet)."""
    title = _("uptime %(days)sd") % {"days": days}
    if label:
        title = f"{label} {title}"
    if percent is None:
        return Badge(title, _("no data"), GREY)
    colour = next((name for level, name in UPTIME_LEVELS if float(percent) >= level), "red")
    return Badge(title, f"{percent}%", colour)


def svg(badge: Badge, style: str = LIGHT) -> str:
    """The badge as an SVG image (the template escapes every text)."""
    palette = PALETTES[style]
    label, message = _clean(badge.label), _clean(badge.message)
    label_width = text_width(label) + 2 * PADDING
    message_width = text_width(message) + 2 * PADDING
    context = {
        "label": label,
        "message": message,
        "width": label_width + message_width,
        "height": HEIGHT,
        "label_width": label_width,
        "message_width": message_width,
        "label_x": label_width / 2,
        "message_x": label_width + message_width / 2,
        "label_text_width": label_width - 2 * PADDING,
        "message_text_width": message_width - 2 * PADDING,
        "label_fill": palette["label"],
        "label_text": palette["label_text"],
        "message_fill": palette[badge.colour],
        "message_text": palette["text"],
    }
    return loader.render_to_string("status/badge.svg", context)


def endpoint_json(badge: Badge) -> dict:
    """shields.io's endpoint schema (https://shields.io/badges/endpoint-badge): its colour as hex, without #."""
    return {
        "schemaVersion": 1,
        "label": _clean(badge.label),
        "message": _clean(badge.message),
        "color": PALETTES[LIGHT][badge.colour].lstrip("#"),
    }
