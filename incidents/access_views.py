"""Signing in to a non-public page: the sign-in page a stranger gets, the password form, the emailed link.

These forms sit where the public page would (no CSRF cookie there, as the subscribe form): their POSTs are
csrf_exempt, and rate-limited. The answer to an email address is the same whether it may sign in or not.
Following a link: GET shows a button, POST signs in (mail scanners open links).
"""

from django.contrib.auth.hashers import check_password
from django.core.cache import cache
from django.http import HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.utils.cache import add_never_cache_headers
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from incidents import access
from incidents.choices import Visibility
from incidents.languages import localized
from incidents.models import Page
from incidents.public_cache.state import load_page

DENIED = "This page is not public: sign in to read it."
ATTEMPTS = 10  # per client address and page (password) or per address (email), per 10 minutes
ATTEMPT_WINDOW = 600


def denied(request, page: Page):
    """What someone without access gets, at every address of the page: nothing of its content."""
    if "/api/v2/" in request.path:
        response = JsonResponse({"error": DENIED}, status=401)
    elif request.path.endswith(access.FEED_SUFFIXES):
        response = HttpResponse(DENIED + "\n", status=401, content_type="text/plain; charset=utf-8")
    else:
        response = sign_in_page(request, page, status=401)
    add_never_cache_headers(response)
    return response


def sign_in_page(request, page: Page, *, status=200, message="", error=""):
    context = {
        "signin_page": page,
        "by_password": page.visibility == Visibility.PASSWORD,
        "by_email": page.visibility != Visibility.PASSWORD or page.viewers.exists(),
        "message": message,
        "error": error,
    }
    response = render(request, "status/sign_in.html", context, status=status)
    add_never_cache_headers(response)
    return response


def _allowed(key: str) -> bool:
    """At most ATTEMPTS per ATTEMPT_WINDOW for this key (the cache down: allowed, as the other limits)."""
    key = "access:attempts:" + key
    try:
        cache.add(key, 0, ATTEMPT_WINDOW)
        return cache.incr(key) <= ATTEMPTS
    except Exception:
        return True


def _private_page(page_code):
    page = load_page(page_code)
    return None if page.is_public else page


@localized
@csrf_exempt
@require_POST
def password_sign_in(request, page_code: str | None = None):
    page = _private_page(page_code)
    if page is None or page.visibility != Visibility.PASSWORD:
        return HttpResponseRedirect(load_page(page_code).get_absolute_url())
    if not _allowed(f"pw:{page.code}:{request.META.get('REMOTE_ADDR', '')}"):
        return sign_in_page(request, page, status=429, error=_("Too many attempts; please try again in a few minutes."))
    if not check_password(request.POST.get("password", ""), page.password_hash):
        return sign_in_page(request, page, status=400, error=_("That password is not the page’s password."))
    response = HttpResponseRedirect(page.get_absolute_url())
    access.set_access_cookie(response, request, page, access.password_grant(page))
    return response


@localized
@csrf_exempt
@require_POST
def email_sign_in(request, page_code: str | None = None):
    from incidents.tasks import send_access_link

    page = _private_page(page_code)
    if page is None:
        return HttpResponseRedirect(load_page(page_code).get_absolute_url())
    email = " ".join(request.POST.get("email", "").split()).lower()[:254]
    if "@" not in email:
        return sign_in_page(request, page, status=400, error=_("Enter your email address."))
    if not _allowed(f"em:{email}") or not _allowed(f"emip:{request.META.get('REMOTE_ADDR', '')}"):
        return sign_in_page(request, page, status=429, error=_("Too many requests; please try again in a few minutes."))
    if access.may_sign_in_by_email(page, email):
        send_access_link.delay(page.pk, email, get_language())
    return sign_in_page(
        request,
        page,
        message=_("If %(email)s may read this page, we have sent it a link to sign in.") % {"email": email},
    )


@localized
@require_http_methods(["GET", "POST"])
def follow_link(request, token: str, page_code: str | None = None):
    page = _private_page(page_code)
    if page is None:
        return HttpResponseRedirect(load_page(page_code).get_absolute_url())
    grant = access.read_link_token(page, token)
    if grant is None or access.access_of_grant(page, grant) is None:
        return sign_in_page(
            request, page, status=400, error=_("This sign-in link has expired or is not valid: ask for a new one.")
        )
    if request.method == "GET":
        response = render(request, "status/sign_in_link.html", {"signin_page": page})
        add_never_cache_headers(response)
        return response
    response = HttpResponseRedirect(page.get_absolute_url())
    access.set_access_cookie(response, request, page, grant)
    return response
