"""The emails: incident update notifications and subscription confirmations (text + HTML parts).

A notification is rendered once per chunk and recipient kind; only the links and the message ids differ
between recipients, so they are filled in per message (the 10,000-recipient benchmark depends on it). For
SMTP, the whole message is even encoded once (MIME, headers) and each recipient's copy is that byte string
with their address, links and message ids put in (RawEmail).
"""

from dataclasses import dataclass
from functools import wraps
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.core.mail.message import sanitize_address
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext as _

from incidents.choices import ComponentStatus
from incidents.languages import speaking_to
from incidents.markup import render_markdown
from incidents.models import ComponentGroup, ComponentStatusChange, IncidentUpdate
from incidents.presentation import format_posted, format_time, format_window
from incidents.selectors import affected_components, in_page_order, incident_timeline
from notifications.models import Notification, NotificationKind, Subscriber
from notifications.tokens import make_token

MANAGE = "__STATUSPAGE_MANAGE_URL__"
UNSUBSCRIBE = "__STATUSPAGE_UNSUBSCRIBE_URL__"
RECIPIENT = "__STATUSPAGE_RECIPIENT__"
CODE = "__STATUSPAGE_SUBSCRIBER_CODE__"
# A placeholder's line, filled in, must stay far below SMTP's 998-byte line limit.
MAX_TEMPLATE_LINE = 400


@dataclass(frozen=True, slots=True)
class RawEmail:
    """One recipient's message, already in wire format (CRLF line ends), for a channel that sends bytes."""

    from_email: str
    to: str
    data: bytes


def site_domain() -> str:
    return urlsplit(settings.SITE_URL).hostname or "localhost"


def absolute(path: str) -> str:
    return settings.SITE_URL + path


def list_id(page) -> str:
    # Header values must be one line, whatever a name contains.
    return " ".join(f"{page.name} <{page.code}.{site_domain()}>".split())


def link(subscriber: Subscriber, purpose: str, page=None) -> str:
    """`page`: the subscriber's page when the caller has it (saves a query per recipient)."""
    token = make_token(subscriber, purpose, page)
    return absolute(reverse(f"notifications:{purpose}", kwargs={"token": token}))


TOKEN = "__STATUSPAGE_TOKEN__"


def link_template(purpose: str) -> str:
    """A link with TOKEN in place of the token, reversed once for many subscribers."""
    return absolute(reverse(f"notifications:{purpose}", kwargs={"token": TOKEN}))


def _reason(subscriber: Subscriber, page_name: str, noun: str = "incident") -> tuple[str, str]:
    if subscriber.incident_id is not None:
        if noun == "maintenance":
            return "incident", _("You are receiving this because you subscribed to updates of this maintenance.")
        return "incident", _("You are receiving this because you subscribed to updates of this incident.")
    if subscriber.all_components:
        text = _("You are receiving this because you subscribed to all %(page)s status updates.")
        return "all", text % {"page": page_name}
    text = _("You are receiving this because you subscribed to %(page)s updates for components you chose.")
    return "chosen", text % {"page": page_name}


class NotificationEmail:
    """Builds the email of one notification for any number of recipients who read `language` (a subscriber's
    language; empty: the page's default)."""

    def __init__(self, notification: Notification, language: str = ""):
        update = IncidentUpdate.objects.select_related("incident__page").get(pk=notification.update_id)
        self.language = language
        with speaking_to(update.incident.page, language):
            self._prepare(notification, update)

    def _prepare(self, notification: Notification, update: IncidentUpdate) -> None:
        incident = update.incident
        page = incident.page
        timeline = incident_timeline(incident, fields=("id", "status", "display_at"))
        label = next((u.label for u in timeline if u.pk == update.pk), update.get_status_display())
        reminder = notification.kind == NotificationKind.REMINDER
        label = _("Reminder") if reminder else _(label)
        self.notification = notification
        self.incident_code = incident.code
        self.first_notification_id = (
            Notification.objects.filter(update__incident_id=incident.pk).order_by("id").values_list("id", flat=True)
        ).first()
        # A non-public page's email tells only that there is news, with a link behind the page's sign-in: the
        # subscriber may have lost access since, and may see only some of its components (audience groups).
        self.template = "notifications/update" if page.is_public else "notifications/update_withheld"
        # Header values must be one line, whatever a name contains.
        noun = "maintenance" if incident.is_maintenance else "incident"
        if page.is_public:
            told = f"{incident.name}: {label}"
        else:
            told = _("A new maintenance update") if incident.is_maintenance else _("A new incident update")
        self.subject = " ".join(f"[{page.name}] {told}".split())
        self.list_id = list_id(page)
        self.context = {
            "page": page,
            "incident": incident,
            # A maintenance is called one, in words and links.
            "noun": noun,
            "update": update,
            "label": label,
            "reminder": reminder,
            "body_html": render_markdown(update.body),
            "posted": format_posted(update.display_at, page.tz),
            "components": self._components(incident, update),
            "window": format_window(incident.scheduled_for, incident.scheduled_until, page.tz)
            if incident.is_maintenance
            else "",
            # The promise, while the incident is open and this update made one.
            "next_update": format_time(update.next_update_at, page.tz)
            if update.next_update_at and incident.is_open
            else "",
            "incident_url": absolute(page.public_url("incident", code=incident.code)),
            "page_url": absolute(page.get_absolute_url()),
            "manage_url": MANAGE,
            "unsubscribe_url": UNSUBSCRIBE,
        }
        self._rendered: dict[str, tuple[str, str]] = {}
        self._templates: dict[str, tuple[str, bytes] | None] = {}

    @staticmethod
    def _components(incident, update) -> list[tuple[str, str]]:
        """Affected components with their status as of this update, in page order."""
        components = affected_components(incident)
        as_of = {}
        changes = ComponentStatusChange.objects.filter(
            component__in=components, changed_at__lte=update.display_at
        ).order_by("changed_at", "id")
        for change in changes.only("component_id", "new_status"):
            as_of[change.component_id] = change.new_status
        rows = []
        for component in components:
            name = f"{component.group.name} › {component.name}" if component.group else component.name
            rows.append((name, _(ComponentStatus(as_of.get(component.pk, component.status)).label)))
        return rows

    def _parts(self, kind: str, reason: str) -> tuple[str, str]:
        if kind not in self._rendered:
            context = {**self.context, "reason": reason}
            with speaking_to(context["page"], self.language):
                self._rendered[kind] = (
                    render_to_string(f"{self.template}.txt", context),
                    render_to_string(f"{self.template}.html", context),
                )
        return self._rendered[kind]

    def _reason(self, subscriber: Subscriber) -> tuple[str, str]:
        with speaking_to(self.context["page"], self.language):
            return _reason(subscriber, self.context["page"].name, self.context["noun"])

    def _message(self, text, html, *, to, code, unsubscribe) -> EmailMultiAlternatives:
        headers = {
            "Message-ID": f"<{self.incident_code}.{self.notification.pk}.{code}@{site_domain()}>",
            "List-Id": self.list_id,
            **unsubscribe_headers(unsubscribe),
        }
        if self.first_notification_id and self.first_notification_id != self.notification.pk:
            # The incident's first notification to the same subscriber is the thread root.
            root = f"<{self.incident_code}.{self.first_notification_id}.{code}@{site_domain()}>"
            headers["In-Reply-To"] = root
            headers["References"] = root
        message = EmailMultiAlternatives(self.subject, text, to=[to], headers=headers)
        message.attach_alternative(html, "text/html")
        return message

    def build(self, subscriber: Subscriber) -> EmailMultiAlternatives:
        page = self.context["page"]
        kind, reason = self._reason(subscriber)
        text, html = self._parts(kind, reason)
        manage, unsubscribe = link(subscriber, "manage", page), link(subscriber, "unsubscribe", page)
        text = text.replace(MANAGE, manage).replace(UNSUBSCRIBE, unsubscribe)
        html = html.replace(MANAGE, manage).replace(UNSUBSCRIBE, unsubscribe)
        return self._message(text, html, to=subscriber.email, code=subscriber.code, unsubscribe=unsubscribe)

    def _template(self, kind: str, reason: str) -> tuple[str, bytes] | None:
        """(envelope sender, the message encoded once with placeholders), or None if it cannot be filled in
        safely (a body that needed quoted-printable, a header that was folded: placeholders not intact)."""
        if kind not in self._templates:
            text, html = self._parts(kind, reason)
            message = self._message(text, html, to=RECIPIENT, code=CODE, unsubscribe=UNSUBSCRIBE)
            data = message.message().as_bytes(linesep="\r\n")
            expected = {
                MANAGE: text.count(MANAGE) + html.count(MANAGE),
                UNSUBSCRIBE: text.count(UNSUBSCRIBE) + html.count(UNSUBSCRIBE) + 1,  # and List-Unsubscribe
                RECIPIENT: 1,
                CODE: 3 if "In-Reply-To" in message.extra_headers else 1,  # Message-ID, In-Reply-To, References
            }
            marks = [placeholder.encode() for placeholder in expected]
            intact = all(data.count(p.encode()) == n for p, n in expected.items())
            lines = [line for line in data.split(b"\r\n") if any(mark in line for mark in marks)]
            short = all(len(line) < MAX_TEMPLATE_LINE for line in lines)
            sender = sanitize_address(message.from_email, message.encoding or settings.DEFAULT_CHARSET)
            self._templates[kind] = (sender, data) if intact and short else None
        return self._templates[kind]

    def raw(self, subscriber: Subscriber) -> RawEmail | None:
        """The subscriber's copy of the once-encoded message, or None (then use build())."""
        address = subscriber.email
        if not address.isascii() or sanitize_address(address, "utf-8") != address:
            return None  # quoted, internationalised or odd: Django's own encoding handles it
        kind, reason = self._reason(subscriber)
        template = self._template(kind, reason)
        if template is None:
            return None
        sender, data = template
        page = self.context["page"]
        data = (
            data.replace(MANAGE.encode(), link(subscriber, "manage", page).encode())
            .replace(UNSUBSCRIBE.encode(), link(subscriber, "unsubscribe", page).encode())
            .replace(CODE.encode(), subscriber.code.encode())
            .replace(RECIPIENT.encode(), subscriber.email.encode())
        )
        return RawEmail(sender, subscriber.email, data)


def unsubscribe_headers(unsubscribe_url: str) -> dict[str, str]:
    return {
        "List-Unsubscribe": f"<{unsubscribe_url}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        "Auto-Submitted": "auto-generated",
        "X-Auto-Response-Suppress": "All",
    }


def scope_names(subscriber: Subscriber) -> list[str]:
    """What a page subscriber chose, in page order: "Delivery (the whole group)", "Delivery › SMS", "API"."""
    groups = list(subscriber.groups.all())
    chosen = {group.pk for group in groups}
    components = [c for c in subscriber.components.select_related("group") if c.group_id not in chosen]
    names = []
    for item in in_page_order([*groups, *components]):  # a component covered by a chosen group is left out
        if isinstance(item, ComponentGroup):
            names.append(_("%(group)s (the whole group)") % {"group": item.name})
        else:
            names.append(f"{item.group.name} › {item.name}" if item.group else item.name)
    return names


def scope_context(subscriber: Subscriber) -> dict:
    """What a subscriber gets, for the notifications/_scope.* templates (welcome, confirmation, confirm page)."""
    return {
        "page": subscriber.page,
        "subscriber": subscriber,
        "incident": subscriber.incident,
        "chosen": [] if subscriber.incident_id or subscriber.all_components else scope_names(subscriber),
    }


def in_their_language(build):
    """An email to one subscriber, written in their language (incidents.languages.speaking_to)."""

    @wraps(build)
    def wrapper(subscriber: Subscriber) -> EmailMultiAlternatives:
        with speaking_to(subscriber.page, subscriber.language):
            return build(subscriber)

    return wrapper


@in_their_language
def welcome_email(subscriber: Subscriber) -> EmailMultiAlternatives:
    """Sent once, after the subscriber confirmed: what they will get, and how to change it or leave."""
    page = subscriber.page
    unsubscribe = link(subscriber, "unsubscribe")
    context = {
        **scope_context(subscriber),
        "manage_url": link(subscriber, "manage"),
        "unsubscribe_url": unsubscribe,
        "page_url": absolute(page.get_absolute_url()),
    }
    subject = " ".join(f"[{page.name}] {_('You are subscribed')}".split())
    message = EmailMultiAlternatives(
        subject,
        render_to_string("notifications/welcome.txt", context),
        to=[subscriber.email],
        headers={"List-Id": list_id(page), **unsubscribe_headers(unsubscribe)},
    )
    message.attach_alternative(render_to_string("notifications/welcome.html", context), "text/html")
    return message


@in_their_language
def confirmation_email(subscriber: Subscriber) -> EmailMultiAlternatives:
    """The double opt-in: what the address will get once it confirms, and the link to confirm."""
    page = subscriber.page
    context = {
        **scope_context(subscriber),
        "confirm_url": link(subscriber, "confirm"),
        "page_url": absolute(page.get_absolute_url()),
    }
    subject = " ".join(f"[{page.name}] {_('Confirm your subscription')}".split())
    message = EmailMultiAlternatives(
        subject,
        render_to_string("notifications/confirm.txt", context),
        to=[subscriber.email],
        headers={"Auto-Submitted": "auto-generated"},
    )
    message.attach_alternative(render_to_string("notifications/confirm.html", context), "text/html")
    return message


@in_their_language
def quarantine_email(subscriber: Subscriber) -> EmailMultiAlternatives:
    """An endpoint failed too often and gets nothing more until it is reactivated: its owner is told why."""
    page = subscriber.page
    subject = " ".join(f"[{page.name}] {_('Your webhook is quarantined')}".split())
    values = {"endpoint": subscriber.endpoint, "page": page.name, "reason": subscriber.quarantine_reason}
    values["url"] = absolute(page.get_absolute_url())
    body = (
        "\n\n".join(
            [
                _(
                    "Your webhook %(endpoint)s for %(page)s status updates failed too often and is quarantined: it "
                    "receives nothing more until it is reactivated."
                ),
                _("The last failure: %(reason)s"),
                _(
                    "Fix the endpoint, then subscribe it again at %(url)s (or ask the page’s administrators to "
                    "reactivate it)."
                ),
            ]
        )
        % values
        + "\n"
    )
    return EmailMultiAlternatives(subject, body, to=[subscriber.email], headers={"Auto-Submitted": "auto-generated"})
