"""The history's search and paging: what a visitor typed, read the same way on every backend.

A query is normalised (control and format characters read as spaces, whitespace collapsed) and bounded
(MAX_QUERY_LENGTH characters, MAX_QUERY_WORDS words): too long is refused with a message, never cut
silently. Every word must appear, case-insensitively, in the incident's name or in one of its published
updates (postmortems are published as updates; a postmortem draft is never searched).

On PostgreSQL a trigram GIN index on UPPER(body) (migration 0009) serves the `icontains` of each word;
SQLite scans.
"""

import sys
import unicodedata

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from incidents.models import IncidentUpdate

MAX_QUERY_LENGTH = 100
MAX_QUERY_WORDS = 8


class BadQuery(ValueError):
    """A search the history refuses, with a message for the visitor."""


def _is_control(ch: str) -> bool:
    # Cc control (NUL, ESC, …), Cf format (zero-width space, …), Cs lone surrogates, Co/Cn private/unassigned.
    return unicodedata.category(ch).startswith("C")


def normalise_query(raw: str | None) -> str:
    """The query as searched: control and format characters as spaces, whitespace collapsed."""
    text = "".join(" " if _is_control(ch) else ch for ch in (raw or ""))
    return " ".join(text.split())


def history_query(raw: str | None) -> str:
    """The visitor's query, normalised; BadQuery when it is too long or has too many words."""
    too_long = BadQuery(_("Search for at most %(count)d characters.") % {"count": MAX_QUERY_LENGTH})
    if len(raw or "") > MAX_QUERY_LENGTH * 20:
        raise too_long  # refused before reading it character by character
    query = normalise_query(raw)
    if len(query) > MAX_QUERY_LENGTH:
        raise too_long
    if len(query.split()) > MAX_QUERY_WORDS:
        raise BadQuery(_("Search for at most %(count)d words.") % {"count": MAX_QUERY_WORDS})
    return query


def page_number(raw: str | None) -> int:
    """The page asked for: ASCII digits only (as the cache key reads it), anything else is page 1.

    A number past the end is left large: the paginator shows the last page.
    """
    raw = raw or ""
    if not (raw.isascii() and raw.isdigit()):
        return 1
    digits = raw.lstrip("0")
    if len(digits) > 18:
        return sys.maxsize
    return max(int(digits or "1"), 1)


def search_incidents(incidents: QuerySet, query: str) -> QuerySet:
    """Incidents whose name or published updates contain every word of the (normalised) query."""
    for word in dict.fromkeys(query.split()):
        # WHERE id IN (SELECT incident_id FROM updates WHERE UPPER(body) LIKE …): the trigram index's query.
        in_updates = IncidentUpdate.objects.filter(body__icontains=word).values("incident_id")
        incidents = incidents.filter(Q(name__icontains=word) | Q(pk__in=in_updates))
    return incidents
