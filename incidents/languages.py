"""The languages of the public site: each lives at its own address, the language code before the path.

`/fr/`, `/fr/p/<page id>/`, `/fr/incidents/<code>`; an address without a code is in the page's default
language (Page.default_language). So every language version is a distinct URL, cached, ETagged and published
on its own, and no response depends on a cookie or an Accept-Language header. Links on a page keep the code
it was asked with (Page.public_url reads it from `url_language`).
"""

import re
from contextlib import contextmanager
from contextvars import ContextVar

from django.conf import settings
from django.utils import translation

# The public views with words in them, served in every language under /<lang>/ (the logo and accent.css, the
# API and the badges are the same in all).
LOCALIZED = {
    "home", "incident", "history", "history-page", "uptime", "maintenance-ics", "history-atom", "history-rss",
    "access-password", "access-email", "access-link", "subscribe", "embed",
}  # fmt: skip

OLDER_HISTORY = re.compile(r"/history/page/\d+$")

# The language code in the address being rendered ("fr"), or None for an address without one.
url_language: ContextVar[str | None] = ContextVar("url_language", default=None)


def codes() -> list[str]:
    return [code for code, _ in settings.LANGUAGES]


class LanguageConverter:
    """<lang:lang> in a route: one of settings.LANGUAGES' codes, in lower case (pt-br)."""

    regex = "[a-z]{2}(?:-[a-z]{2})?"

    def to_python(self, value: str) -> str:
        if value not in codes():
            raise ValueError(value)
        return value

    def to_url(self, value: str) -> str:
        return value


@contextmanager
def speaking(default_language: str, lang: str | None = None):
    """Render in `lang` (an address's code) or else in `default_language`, with links keeping `lang`."""
    token = url_language.set(lang)
    try:
        with translation.override(lang or default_language or settings.LANGUAGE_CODE):
            yield
    finally:
        url_language.reset(token)


def speaking_to(page, language: str | None):
    """Render for a reader of `page` who reads `language` (a subscriber's; empty: the page's default): in
    that language, with links to its addresses (/fr/… unless it is the page's default language)."""
    default = page.default_language if page is not None else settings.LANGUAGE_CODE
    return speaking(default, language if language and language != default else None)


def prefixed(path: str) -> str:
    """A page's path (/history, /p/<id>/) in the language of the address being rendered."""
    lang = url_language.get()
    return f"/{lang}{path}" if lang else path


def unprefixed(path: str, lang: str | None) -> str:
    return path[len(lang) + 1 :] if lang and path.startswith(f"/{lang}/") else path


def switcher(path: str, page) -> list[tuple[str, str, str, bool]]:
    """(code, name, address, current) of every language of the address `path`; the page's own language
    without a code. The default page's links are the same at / and at /p/<id>/ (one rendering serves both)."""
    lang = url_language.get()
    bare = unprefixed(path, lang)
    if page.is_default and bare.startswith(f"/p/{page.code}/"):
        bare = bare[len(f"/p/{page.code}") :]
    bare = OLDER_HISTORY.sub("/history", bare)  # /history/page/2 is also /history?page=2: one rendering for both
    default_language = page.default_language
    current = lang or default_language
    return [
        (code, name, bare if code == default_language else f"/{code}{bare}", code == current)
        for code, name in settings.LANGUAGES
    ]


def localized(view):
    """Marks a view that is not a public_view (a form's POST, a sign-in page) as served in every language:
    LanguageMiddleware renders it in the address's language, else in its page's default one."""
    view.localized = True
    return view


class LanguageMiddleware:
    """For the views marked `localized` (public views set their language themselves, see public_cache.views)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view, args, kwargs):
        if not getattr(view, "localized", False):
            return None
        from incidents.models import Page

        lang = kwargs.pop("lang", None)
        code = kwargs.get("page_code")
        pages = Page.objects.filter(code=code) if code else Page.objects.filter(is_default=True)
        default = pages.values_list("default_language", flat=True).first() or settings.LANGUAGE_CODE
        with speaking(default, lang):
            response = view(request, *args, **kwargs)
            if hasattr(response, "render") and not response.is_rendered:
                response.render()
            return response
