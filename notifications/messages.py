"""The messages of a chunk (each notification rendered once per channel and language, per subscriber only its
links and a webhook's signature) and the channels that send them, opened at their first message."""

import json

from notifications import chat_messages, webhook_payloads
from notifications.channels import CHANNELS, EndpointMessage
from notifications.emails import TOKEN, NotificationEmail, link_template
from notifications.models import Notification, SubscriberChannel
from notifications.tokens import make_token

# The message of each recent notification per endpoint kind, per process: the chunks of one fan-out build it
# once. An event describes its update as it was when first built (as Statuspage's `meta.generated_at` says).
PAYLOADS: dict[tuple, tuple] = {}
PAYLOADS_KEPT = 32
UNSUBSCRIBE_MARK = "__STATUSPAGE_UNSUBSCRIBE__"


def _remember(key: tuple, payload: tuple) -> None:
    while len(PAYLOADS) >= PAYLOADS_KEPT:
        PAYLOADS.pop(next(iter(PAYLOADS)))
    PAYLOADS[key] = payload


class Messages:
    """Each notification rendered once per channel; per subscriber only the links (and a webhook's signature)."""

    def __init__(self, email_channel_class):
        self.emails: dict[tuple[int, str], NotificationEmail] = {}
        self.payloads = PAYLOADS
        self.unsubscribe_url: str | None = None
        self.notifications: dict[int, Notification] = {}
        self.raw = getattr(email_channel_class, "sends_raw", False)
        self.email_channel_class = email_channel_class

    def notification(self, notification_id: int) -> Notification:
        """Each notification of the chunk loaded once, with its update and page."""
        notification = self.notifications.get(notification_id)
        if notification is None:
            notification = Notification.objects.select_related("update", "page").get(pk=notification_id)
            self.notifications[notification_id] = notification
        return notification

    def build(self, delivery, channel):
        subscriber = delivery.subscriber
        kind = subscriber.channel
        if kind == SubscriberChannel.EMAIL:
            key = (delivery.notification_id, subscriber.language)  # one rendering per notification and language
            email = self.emails.get(key)
            if email is None:
                email = self.emails[key] = NotificationEmail(
                    self.notification(delivery.notification_id), subscriber.language
                )
            raw = getattr(channel, "sends_raw", False)
            return (raw and email.raw(subscriber)) or email.build(subscriber)
        payload = self.endpoint_payload(delivery, kind)
        if kind != SubscriberChannel.WEBHOOK:
            return EndpointMessage(subscriber.endpoint, payload[0])
        before, after, page = payload
        if self.unsubscribe_url is None:  # reversed once: per subscriber only the token differs
            self.unsubscribe_url = link_template("unsubscribe")
        unsubscribe = self.unsubscribe_url.replace(TOKEN, make_token(subscriber, "unsubscribe", page))
        body = b"".join((before, json.dumps(unsubscribe).encode(), after))
        signature = webhook_payloads.sign(subscriber.signing_secret, body)
        return EndpointMessage(subscriber.endpoint, body, {webhook_payloads.SIGNATURE_HEADER: signature})

    def endpoint_payload(self, delivery, kind: str) -> tuple:
        """A chat message's body; or a webhook body's bytes before and after its unsubscribe link (serialised
        once: the subscriber's link goes in between), and the page. Keyed by the notification's creation time
        too: a test database may give a rolled-back id again."""
        notification = self.notification(delivery.notification_id)
        key = (notification.pk, notification.created_at, kind)
        payload = self.payloads.get(key)
        if payload is None:
            if kind == SubscriberChannel.WEBHOOK:
                body = webhook_payloads.for_subscriber(webhook_payloads.event_of(notification), UNSUBSCRIBE_MARK)
                before, after = body.split(json.dumps(UNSUBSCRIBE_MARK).encode())
                payload = (before, after, notification.page)
            else:
                payload = (json.dumps(chat_messages.message(kind, notification)).encode(),)
            _remember(key, payload)
        return payload


class Channels:
    """The chunk's channels by class, each opened at its first message (a chunk of webhooks opens no SMTP)."""

    def __init__(self, email_class):
        self.classes = {**CHANNELS, SubscriberChannel.EMAIL.value: email_class}
        self.opened: dict[type, object] = {}

    def for_kind(self, kind: str):
        cls = self.classes[kind]
        channel = self.opened.get(cls)
        if channel is None:
            channel = cls()
            channel.open()  # ChannelError: this message (and its kind's rest of the chunk) later
            self.opened[cls] = channel
        return channel

    def same(self, kind_a: str, kind_b: str) -> bool:
        return self.classes[kind_a] is self.classes[kind_b]

    def close(self) -> None:
        for channel in self.opened.values():
            channel.close()
