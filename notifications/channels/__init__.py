"""Delivery channels behind one interface (healthchecks' hc/api/transports.py is the model).

A channel sends one message to one subscriber and either returns or raises ChannelError, whose
`permanent` flag says whether trying again can help. The send loop (notifications/tasks.py) knows nothing
else about a channel: it renders once per notification, asks the channel for each subscriber's message,
and records the outcome. Each channel declares the subscriber fields it needs (`needs`), so a subscriber
without them is failed at once instead of being sent a broken message.

Email sends over SMTP; webhooks and the chat apps (Slack, Teams, Discord) post JSON to their endpoint over one
HTTP channel (notifications/channels/webhook.py): they differ in the message, not in how it travels.
"""

from notifications.channels.base import Channel, ChannelError
from notifications.channels.email import EmailChannel
from notifications.channels.webhook import EndpointError, EndpointMessage, WebhookChannel

CHANNELS: dict[str, type[Channel]] = {
    "email": EmailChannel,
    "webhook": WebhookChannel,
    "slack": WebhookChannel,
    "teams": WebhookChannel,
    "discord": WebhookChannel,
}


def channel_for(subscriber) -> type[Channel]:
    """The channel class of a subscriber."""
    return CHANNELS[subscriber.channel]


__all__ = [
    "CHANNELS",
    "Channel",
    "ChannelError",
    "EmailChannel",
    "EndpointError",
    "EndpointMessage",
    "WebhookChannel",
    "channel_for",
]
