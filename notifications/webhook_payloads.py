"""Statuspage's webhook payloads, field for field (../shared/STATUSPAGE_API.md, and real payloads as consumers
such as Zulip's integration capture them), and their signature.

An incident event: {"meta", "page", "incident"} with the incident's updates newest first (consumers read
`incident_updates[0]` as the latest). A component event: {"meta", "page", "component", "component_update"}.
Each is built once per notification; per subscriber only `meta.unsubscribe` differs (`for_subscriber`).

The body is signed, not changed: `X-Statuspage-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "<t>." + body>`
with the subscriber's secret, so a receiver checks both the body and its age (README: "Verifying webhooks").
"""

import hashlib
import hmac
import json
import secrets
import time

from django.conf import settings
from django.utils import timezone

from incidents.models import ComponentStatusChange, Incident, Page
from incidents.presentation import timestamp
from incidents.selectors import page_components, status_of, with_details

DOCUMENTATION = "https://support.atlassian.com/statuspage/docs/enable-webhook-notifications/"
SIGNATURE_HEADER = "X-Statuspage-Signature"


def new_secret() -> str:
    return secrets.token_hex(32)


def sign(secret: str, body: bytes, at: int | None = None) -> str:
    """The signature header's value for `body` sent at unix time `at` (now by default)."""
    at = int(time.time()) if at is None else at
    digest = hmac.new(secret.encode(), f"{at}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={at},v1={digest}"


def verify(secret: str, body: bytes, header: str, *, tolerance: int = 300, now: float | None = None) -> bool:
    """What a receiver does (the README's snippet, and the tests): a good HMAC, at most `tolerance` s old."""
    try:
        fields = dict(part.split("=", 1) for part in header.split(","))
        at = int(fields["t"])
    except (KeyError, ValueError):
        return False
    if abs((time.time() if now is None else now) - at) > tolerance:
        return False
    expected = hmac.new(secret.encode(), f"{at}.".encode() + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, fields.get("v1", ""))


def _meta(page: Page) -> dict:
    return {
        "unsubscribe": None,  # per subscriber
        "documentation": DOCUMENTATION,
        "generated_at": timestamp(timezone.now(), page),
    }


def _page(page: Page) -> dict:
    status = status_of(page, page_components(page))
    return {"id": page.code, "status_indicator": str(status.indicator), "status_description": status.description}


def component_object(component, page: Page) -> dict:
    return {
        "status": component.status,
        "name": component.name,
        "created_at": timestamp(component.created_at, page),
        "updated_at": timestamp(component.updated_at, page),
        "position": component.position,
        "description": component.description or None,
        "showcase": component.showcase,
        "id": component.code,
        "page_id": page.code,
        "group_id": component.group.code if component.group_id else None,
    }


def _update_object(update, incident: Incident, page: Page) -> dict:
    changes = [
        {
            "code": change.component.code,
            "name": change.component.name,
            "old_status": change.old_status,
            "new_status": change.new_status,
        }
        for change in update.changes
    ]
    return {
        "status": update.status,
        "body": update.body,
        "created_at": timestamp(update.created_at, page),
        "wants_twitter_update": False,
        "twitter_updated_at": None,
        "updated_at": timestamp(update.updated_at, page),
        "display_at": timestamp(update.display_at, page),
        "affected_components": changes or None,
        "custom_tweet": None,
        "deliver_notifications": update.deliver_notifications,
        "id": update.code,
        "incident_id": incident.code,
    }


def incident_event(update_id: int) -> dict:
    """The incident event of one update: the incident with its updates up to this one, newest first (sent later,
    or again, it still describes that moment's update as the latest)."""
    incident = with_details(Incident.objects.select_related("page").filter(updates=update_id)).get()
    page = incident.page
    position = next(i for i, u in enumerate(incident.timeline) if u.pk == update_id)
    incident.timeline = incident.timeline[position:]
    postmortem = next((u for u in incident.timeline if u.status == "postmortem"), None)
    body = {
        "name": incident.name,
        "status": incident.status,
        "created_at": timestamp(incident.created_at, page),
        "updated_at": timestamp(incident.updated_at, page),
        "monitoring_at": timestamp(incident.monitoring_at, page),
        "resolved_at": timestamp(incident.resolved_at, page),
        "impact": incident.impact,
        "shortlink": page_link(page, incident.code),
        "postmortem_ignored": False,
        "postmortem_body": postmortem.body if postmortem else None,
        "postmortem_body_last_updated_at": timestamp(postmortem.updated_at, page) if postmortem else None,
        "postmortem_published_at": timestamp(postmortem.display_at, page) if postmortem else None,
        "postmortem_notified_subscribers": bool(postmortem and postmortem.deliver_notifications),
        "postmortem_notified_twitter": False,
        "backfilled": False,
        "scheduled_for": timestamp(incident.scheduled_for, page),
        "scheduled_until": timestamp(incident.scheduled_until, page),
        "scheduled_remind_prior": incident.scheduled_remind_prior,
        "scheduled_reminded_at": timestamp(incident.reminder_sent_at, page),
        "impact_override": incident.impact_override or None,
        "scheduled_auto_in_progress": incident.scheduled_auto_in_progress,
        "scheduled_auto_completed": incident.scheduled_auto_completed,
        "scheduled_auto_transition": incident.scheduled_auto_in_progress or incident.scheduled_auto_completed,
        "id": incident.code,
        "page_id": page.code,
        "incident_updates": [_update_object(u, incident, page) for u in incident.timeline],
        "components": [component_object(c, page) for c in incident.component_list],
    }
    return {"meta": _meta(page), "page": _page(page), "incident": body}


def component_event(change_id: int) -> dict:
    change = ComponentStatusChange.objects.select_related("component__page", "component__group").get(pk=change_id)
    component, page = change.component, change.component.page
    return {
        "meta": _meta(page),
        "page": _page(page),
        "component": component_object(component, page),
        "component_update": {
            "old_status": change.old_status,
            "new_status": change.new_status,
            "created_at": timestamp(change.changed_at, page),
            "component_type": "Component",
            "id": f"{change.pk:012d}"[-12:],
            "component_id": component.code,
        },
    }


def event_of(notification) -> dict:
    """The payload of a notification: its component's event, or its incident's."""
    if notification.component_change_id is not None:
        return component_event(notification.component_change_id)
    return incident_event(notification.update_id)


def page_link(page: Page, code: str) -> str:
    return settings.SITE_URL + page.public_url("incident", code=code)


def for_subscriber(payload: dict, unsubscribe_url: str) -> bytes:
    """The body for one subscriber: the shared payload with its own unsubscribe link."""
    return json.dumps({**payload, "meta": {**payload["meta"], "unsubscribe": unsubscribe_url}}).encode()
