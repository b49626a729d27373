"""Subscribing, and the pages behind the links in emails (confirm, manage, unsubscribe).

The subscribe form sits on cached public pages without a CSRF token, so its POST endpoint is csrf_exempt:
double opt-in and the rate limits make that safe. The answer is the same whether the address is new,
pending or subscribed. Link pages are not cached: GET shows a button, POST acts (mail scanners open links).
"""

import contextlib

from django.conf import settings
from django.db import IntegrityError
from django.shortcuts import render
from django.utils.cache import add_never_cache_headers
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from incidents.caching import get_public_page
from incidents.models import Component, ComponentGroup, Incident
from incidents.views import component_rows
from notifications import conf, ratelimit, services
from notifications.models import Subscriber, SubscriberState
from notifications.subscribe_form import SubscribeForm
from notifications.tokens import read_token


def _page_response(request, template, context, status=200):
    response = render(request, template, context, status=status)
    add_never_cache_headers(response)
    return response


def _message(request, page, title, text, status=200):
    return _page_response(request, "notifications/message.html", {"page": page, "title": title, "text": text}, status)


def client_ip(request) -> str:
    """REMOTE_ADDR, or the header a trusted reverse proxy sets (CLIENT_IP_HEADER), for the per-IP limit."""
    header = settings.CLIENT_IP_HEADER
    if header:
        forwarded = request.headers.get(header, "").split(",")[0].strip()
        if forwarded:
            return forwarded
    return request.META.get("REMOTE_ADDR", "unknown")


@csrf_exempt
@require_POST
def subscribe(request, page_code: str | None = None):
    page = get_public_page(page_code)
    form = SubscribeForm(page, request.POST)
    if not form.is_valid():
        return _subscribe_again(request, page, form)
    email = form.cleaned_data["email"]

    (ip_limit, ip_seconds), (address_limit, address_seconds) = conf.subscribe_limits()
    ip = client_ip(request)
    if not ratelimit.allow(f"ip:{ip}", ip_limit, ip_seconds) or not ratelimit.allow(
        f"address:{email}", address_limit, address_seconds
    ):
        response = _message(
            request,
            page,
            "Too many requests",
            "Too many subscription requests from here or for this address. Please try again in an hour.",
            status=429,
        )
        response["Retry-After"] = str(max(ip_seconds, address_seconds))
        return response

    incident = form.cleaned_data["incident"]
    components, groups = form.chosen()
    if incident is not None or not request.POST.get("incident"):
        # IntegrityError: the same address, subscribed at the same instant by a second request.
        with contextlib.suppress(IntegrityError):
            services.subscribe(page=page, email=email, components=components, groups=groups, incident=incident)
    return _message(
        request,
        page,
        "Check your inbox",
        f"If {email} can be subscribed, we have sent it a link to confirm. Nothing is sent before you confirm.",
    )


def _subscribe_again(request, page, form):
    """The form again, open, with what was typed and ticked, and what to change (400)."""
    incident = Incident.objects.filter(page=page, code=request.POST.get("incident") or "").first()
    rows, _ = component_rows(page) if incident is None else ([], [])
    context = {
        "page": page,
        "rows": rows,
        "subscribe_incident": incident,
        "subscribe_open": True,
        "subscribe_errors": form.error_list(),
        "subscribe_email": request.POST.get("email", "")[:254],
        "subscribe_scope": form.cleaned_data.get("scope") or request.POST.get("scope"),
        "subscribe_ticked": set(request.POST.getlist("components")) | set(request.POST.getlist("groups")),
    }
    return _page_response(request, "status/subscribe.html", context, status=400)


def _subscriber(token: str, purpose: str) -> Subscriber | None:
    code = read_token(token, purpose)
    if code is None:
        return None
    return Subscriber.objects.select_related("page", "incident").filter(code=code).first()


def _invalid(request):
    response = render(request, "notifications/invalid.html", status=400)
    add_never_cache_headers(response)
    return response


@require_http_methods(["GET", "POST"])
def confirm(request, token: str):
    subscriber = _subscriber(token, "confirm")
    if subscriber is None:
        return _invalid(request)
    page = subscriber.page
    if request.method == "POST":
        services.subscriber_confirm(subscriber)
        text = f"{subscriber.email} will get {page.name} status updates by email."
        return _message(request, page, "Subscribed", text)
    return _page_response(request, "notifications/confirm_page.html", {"page": page, "subscriber": subscriber})


@require_http_methods(["GET", "POST"])
def manage(request, token: str):
    subscriber = _subscriber(token, "manage")
    if subscriber is None:
        return _invalid(request)
    page = subscriber.page
    if request.method == "POST":
        if request.POST.get("action") == "unsubscribe":
            services.subscriber_unsubscribe(subscriber)
            return _message(request, page, "Unsubscribed", f"{subscriber.email} will get no more emails from us.")
        if subscriber.incident_id is None:
            if request.POST.get("scope") == "chosen":
                components = Component.objects.filter(page=page, code__in=request.POST.getlist("components"))
                groups = ComponentGroup.objects.filter(page=page, code__in=request.POST.getlist("groups"))
            else:
                components, groups = [], []
            services.subscriber_set_components(subscriber=subscriber, components=components, groups=groups)
        return _message(request, page, "Saved", "Your subscription has been updated.")
    chosen_components = set(subscriber.components.values_list("id", flat=True))
    chosen_groups = set(subscriber.groups.values_list("id", flat=True))
    groups = list(ComponentGroup.objects.filter(page=page).prefetch_related("components"))
    ungrouped = list(Component.objects.filter(page=page, group__isnull=True))
    return _page_response(
        request,
        "notifications/manage_page.html",
        {
            "page": page,
            "subscriber": subscriber,
            "groups": groups,
            "ungrouped": ungrouped,
            "chosen_components": chosen_components,
            "chosen_groups": chosen_groups,
            "is_quarantined": subscriber.state == SubscriberState.QUARANTINED,
        },
    )


@csrf_exempt  # RFC 8058: mail providers POST "List-Unsubscribe=One-Click" with no cookie and no token
@require_http_methods(["GET", "POST"])
def unsubscribe(request, token: str):
    code = read_token(token, "unsubscribe")
    if code is None:
        return _invalid(request)
    subscriber = Subscriber.objects.select_related("page").filter(code=code).first()
    if subscriber is None:
        return _page_response(request, "notifications/gone.html", {})
    page = subscriber.page
    if request.method == "POST":
        services.subscriber_unsubscribe(subscriber)
        return _message(request, page, "Unsubscribed", f"{subscriber.email} will get no more emails from us.")
    return _page_response(request, "notifications/unsubscribe_page.html", {"page": page, "subscriber": subscriber})
