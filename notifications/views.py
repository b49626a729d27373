"""Subscribing, and the pages behind the links in emails (confirm, manage, unsubscribe).

The subscribe form sits on cached public pages without a CSRF token, so its POST endpoint is csrf_exempt:
double opt-in and the rate limits make that safe. The answer is the same whether the address is new,
pending or subscribed. Link pages are not cached: GET shows a button, POST acts (mail scanners open links).
"""

import contextlib

from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.shortcuts import render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from incidents.access import access_for, visible_components, visible_layout
from incidents.access_views import denied
from incidents.languages import localized, speaking_to
from incidents.models import Component, ComponentGroup, Incident, Page
from incidents.public_cache.state import load_page as get_public_page
from incidents.selectors import page_layout, public_layout
from notifications import conf, ratelimit, services
from notifications.emails import scope_context
from notifications.endpoint_subscribers import subscribe_endpoint
from notifications.models import Subscriber, SubscriberState
from notifications.subscribe_form import SubscribeForm
from notifications.tokens import Link, make_token, read_link


def _page_response(request, template, context, status=200):
    """A page of ours, not cached; behind an email's link, in the language of its subscriber (or else of its page);
    after the subscribe form, in the form's (LanguageMiddleware)."""
    if "reader" in context:
        subscriber, page = context.pop("reader"), context.get("page")
        with speaking_to(page, subscriber.language if subscriber else ""):
            response = render(request, template, context, status=status)
    else:
        response = render(request, template, context, status=status)
    add_never_cache_headers(response)
    return response


def _message(request, page, title, text, status=200):
    return _page_response(request, "notifications/message.html", {"page": page, "title": title, "text": text}, status)


def client_ip(request) -> str:
    return ratelimit.client_ip(request)  # REMOTE_ADDR, or the address our proxies saw (TRUSTED_PROXY_HOPS)


@localized
@csrf_exempt
@require_POST
def subscribe(request, page_code: str | None = None):
    page = get_public_page(page_code)
    request.page_access = access_for(request, page)
    if request.page_access is None:
        return denied(request, page)  # a non-public page: only those who may read it subscribe to it
    form = SubscribeForm(page, request.POST)
    if not form.is_valid():
        return _subscribe_again(request, page, form)
    email = form.cleaned_data["email"]

    (ip_limit, ip_seconds), (address_limit, address_seconds) = conf.subscribe_limits()
    ip = client_ip(request)
    if not ratelimit.allow(f"ip:{ip}", ip_limit, ip_seconds) or not ratelimit.allow(
        f"address:{email.lower()}", address_limit, address_seconds
    ):
        response = _message(
            request,
            page,
            _("Too many requests"),
            _("Too many subscription requests from here or for this address. Please try again in an hour."),
            status=429,
        )
        response["Retry-After"] = str(max(ip_seconds, address_seconds))
        return response

    incident = form.cleaned_data["incident"]
    components, groups = form.chosen()
    if form.cleaned_data.get("endpoint") and incident is None and not request.POST.get("incident"):
        return _subscribe_webhook(request, page, form, components, groups)
    if incident is not None or not request.POST.get("incident"):
        # IntegrityError: the same address, subscribed at the same instant by a second request.
        with contextlib.suppress(IntegrityError):
            services.subscribe(
                page=page,
                email=email,
                components=components,
                groups=groups,
                incident=incident,
                language=get_language(),
            )
    text = _("If %(email)s can be subscribed, we have sent it a link to confirm. Nothing is sent before you confirm.")
    return _message(request, page, _("Check your inbox"), text % {"email": email})


def _subscribe_webhook(request, page, form, components, groups):
    """A webhook from the public page: checked (the SSRF guard), pending until its email confirms it; its signing
    secret is shown in this answer only."""
    email, endpoint = form.cleaned_data["email"], form.cleaned_data["endpoint"]
    try:
        subscriber, secret = subscribe_endpoint(
            page=page,
            channel="webhook",
            endpoint=endpoint,
            email=email,
            components=components,
            groups=groups,
            language=get_language(),
        )
    except ValidationError as error:
        form.add_error("endpoint", error.messages[0].removeprefix("endpoint: "))
        return _subscribe_again(request, page, form)
    text = _(
        "If %(email)s can confirm it, we have sent it a link. Nothing is posted to %(endpoint)s before you confirm."
    )
    text %= {"email": email, "endpoint": endpoint}
    if secret:
        text += " " + _("Your webhook’s signing secret, shown only now: %(secret)s") % {"secret": secret}
    return _message(request, page, _("Check your inbox"), text)


def _subscribe_again(request, page, form):
    """The form again, open, with what was typed and ticked, and what to change (400)."""
    incident = Incident.objects.filter(page=page, code=request.POST.get("incident") or "").first()
    rows, _ = visible_layout(request, *public_layout(page)) if incident is None else ([], [])
    context = {
        "page": page,
        "rows": rows,
        "subscribe_incident": incident,
        "subscribe_open": True,
        "subscribe_errors": form.error_list(),
        "subscribe_email": request.POST.get("email", "")[:254],
        "subscribe_endpoint": request.POST.get("endpoint", "")[:500],
        "subscribe_scope": form.cleaned_data.get("scope") or request.POST.get("scope"),
        "subscribe_ticked": set(request.POST.getlist("components")) | set(request.POST.getlist("groups")),
    }
    return _page_response(request, "status/subscribe.html", context, status=400)


def _read(token: str, purpose: str) -> tuple[Link | None, Subscriber | None, Page | None]:
    """The link, its subscriber (None once they left: unsubscribing deletes the row) and its page."""
    found = read_link(token, purpose)
    if found is None:
        return None, None, None
    subscriber = Subscriber.objects.select_related("page", "incident").filter(code=found.subscriber_code).first()
    if subscriber is not None:
        return found, subscriber, subscriber.page
    page = Page.objects.filter(code=found.page_code).first() if found.page_code else None
    return found, None, page


def _reader_access(request, page):
    """What this request may read of the page (a link page of a page not open to everyone shows its components
    only to those who may read it, as far as their audience goes), or None."""
    request.page_access = access_for(request, page)
    return request.page_access


def _subscribe_form(request, page, subscriber: Subscriber | None) -> dict:
    """The page's subscribe form, open; filled in with the address and its choice when we know them. Nothing of
    a page the request may not read (the link alone does not open a page that is not public)."""
    if page is None or _reader_access(request, page) is None:
        return {}
    context = {"rows": visible_layout(request, *public_layout(page))[0], "subscribe_open": True}
    if subscriber is not None:
        components = set(subscriber.components.values_list("code", flat=True))
        groups = set(subscriber.groups.values_list("code", flat=True))
        incident = subscriber.incident
        context |= {
            "subscribe_email": subscriber.email,
            "subscribe_scope": "all" if subscriber.all_components else "chosen",
            "subscribe_ticked": components | groups,
            "subscribe_incident": incident if incident is not None and incident.is_open else None,
        }
    return context


def _invalid(request, page=None):
    """A tampered or expired link (400): it names its page when it can, with the page's subscribe form."""
    context = {"page": page, "reader": None, **_subscribe_form(request, page, None)}
    return _page_response(request, "notifications/invalid.html", context, 400)


def _gone(request, page, subscriber: Subscriber | None = None):
    """ "You are unsubscribed" (200), for a link of a subscriber who left or is quarantined (emails to them
    bounced); with the page's subscribe form, filled in for the quarantined address."""
    context = {
        "page": page,
        "quarantined": subscriber.email if subscriber else "",
        **_subscribe_form(request, page, subscriber),
    }
    return _page_response(request, "notifications/gone.html", {**context, "reader": subscriber})


def _unsubscribe(request, subscriber: Subscriber):
    """Unsubscribe, and say so on the same page, with the form to subscribe again filled in (one click back)."""
    form = _subscribe_form(request, subscriber.page, subscriber)  # read before the row goes
    services.subscriber_unsubscribe(subscriber)
    context = {"page": subscriber.page, "left": subscriber.email, "reader": subscriber, **form}
    return _page_response(request, "notifications/gone.html", context)


def _manage_path(subscriber: Subscriber) -> str:
    return reverse("notifications:manage", kwargs={"token": make_token(subscriber, "manage")})


@require_http_methods(["GET", "POST"])
def confirm(request, token: str):
    """GET shows a button (mail scanners open links), POST confirms; a used link says it is done."""
    found, subscriber, page = _read(token, "confirm")
    if found is None or found.expired:
        return _invalid(request, page)
    if subscriber is None or subscriber.state == SubscriberState.QUARANTINED:
        return _gone(request, page, subscriber)
    context = {"page": page, "subscriber": subscriber, "reader": subscriber, "manage_path": _manage_path(subscriber)}
    if subscriber.state != SubscriberState.PENDING:
        return _page_response(request, "notifications/confirmed_page.html", {**context, "already": True})
    if request.method == "POST":
        confirmed_now = services.subscriber_confirm(subscriber)
        return _page_response(request, "notifications/confirmed_page.html", {**context, "already": not confirmed_now})
    return _page_response(request, "notifications/confirm_page.html", {**context, **scope_context(subscriber)})


def _manage_page(request, subscriber: Subscriber, *, saved=False, error="", status=200, ticked=None):
    """The manage form; a ticked group shows its components ticked and covered (they come with it)."""
    page = subscriber.page
    if _reader_access(request, page) is None:
        return denied(request, page)  # the page's sign-in; unsubscribing works without it (see manage)
    if ticked is None:
        ticked = (
            set(subscriber.components.values_list("code", flat=True)),
            set(subscriber.groups.values_list("code", flat=True)),
        )
    chosen_components, chosen_groups = ticked
    rows = []  # in page order: (group, ticked, [(component, ticked, covered)]) or (None, ticked, [(component, …)])
    for row in visible_layout(request, *page_layout(page))[0]:
        if row.group is None:
            rows.append((None, row.component.code in chosen_components, [(row.component, False, False)]))
            continue
        covered = row.group.code in chosen_groups
        children = [(c, covered or c.code in chosen_components, covered) for c in row.children]
        rows.append((row.group, covered, children))
    chosen_scope = bool(error) or not subscriber.all_components
    return _page_response(
        request,
        "notifications/manage_page.html",
        {
            "page": page,
            "subscriber": subscriber,
            "reader": subscriber,
            "rows": rows,
            "chosen_scope": chosen_scope,
            "saved": saved,
            "error": error,
            "is_quarantined": subscriber.state == SubscriberState.QUARANTINED,
        },
        status=status,
    )


@require_http_methods(["GET", "POST"])
def manage(request, token: str):
    found, subscriber, page = _read(token, "manage")
    if found is None or found.expired:
        return _invalid(request, page)
    if subscriber is not None and request.method == "POST" and request.POST.get("action") == "unsubscribe":
        return _unsubscribe(request, subscriber)
    if subscriber is None or subscriber.state == SubscriberState.QUARANTINED:
        return _gone(request, page, subscriber)
    if request.method == "GET":
        return _manage_page(request, subscriber)
    if _reader_access(request, page) is None:
        return denied(request, page)
    if subscriber.incident_id is None:
        components, groups = [], []
        if request.POST.get("scope") == "chosen":
            components = list(Component.objects.filter(page=page, code__in=request.POST.getlist("components")))
            components = visible_components(request, components)
            groups = list(ComponentGroup.objects.filter(page=page, code__in=request.POST.getlist("groups")))
            if not components and not groups:
                # "Only these" with none ticked would silently mean "all": say so, change nothing.
                with speaking_to(page, subscriber.language):
                    error = _("Tick at least one component or group, or choose “All components”.")
                return _manage_page(request, subscriber, error=error, status=400, ticked=(set(), set()))
        services.subscriber_set_components(subscriber=subscriber, components=components, groups=groups)
    return _manage_page(request, subscriber, saved=True)


@csrf_exempt  # RFC 8058: mail providers POST "List-Unsubscribe=One-Click" with no cookie and no token
@require_http_methods(["GET", "POST"])
def unsubscribe(request, token: str):
    found, subscriber, page = _read(token, "unsubscribe")
    if found is None or found.expired:
        return _invalid(request, page)
    if subscriber is not None and request.method == "POST":
        return _unsubscribe(request, subscriber)
    if subscriber is None or subscriber.state == SubscriberState.QUARANTINED:
        return _gone(request, page, subscriber)
    context = {"page": page, "subscriber": subscriber, "reader": subscriber}
    return _page_response(request, "notifications/unsubscribe_page.html", context)
