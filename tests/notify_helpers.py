"""Domain helpers for the notification tests: subscribers in one line, assertions about emails."""

from django.core import mail

from notifications import services
from notifications.models import Subscriber


def confirmed(page, email, *, components=(), groups=(), incident=None) -> Subscriber:
    return services.subscribe(
        page=page, email=email, components=components, groups=groups, incident=incident, confirmed=True
    )


def text_part(message) -> str:
    """The text/plain part of a Django EmailMessage or of an email.message.EmailMessage."""
    if isinstance(message, mail.EmailMessage):
        return message.body
    return message.get_body(preferencelist=("plain",)).get_content()


def html_part(message) -> str:
    if isinstance(message, mail.EmailMultiAlternatives):
        return next(content for content, kind in message.alternatives if kind == "text/html")
    return message.get_body(preferencelist=("html",)).get_content()


def assert_email_contains(message, *texts):
    """Each text appears in both the text and the HTML part."""
    text, html = text_part(message), html_part(message)
    for expected in texts:
        assert expected in text, f"{expected!r} not in the text part:\n{text}"
        assert expected in html, f"{expected!r} not in the HTML part:\n{html}"


def recipients_of(messages) -> list[str]:
    return sorted(m["To"] if not isinstance(m, mail.EmailMessage) else m.to[0] for m in messages)
