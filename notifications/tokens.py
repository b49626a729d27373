"""Signed, expiring tokens for the confirm, manage and unsubscribe links (django.core.signing).

A token carries the subscriber's code and its page's code, so that a link still names its page after the
subscriber left (unsubscribing deletes the row) or once it expired. Tokens made before the page's code was
added carry the subscriber's code alone, and are still read.
"""

from dataclasses import dataclass

from django.core import signing

from notifications import conf

PURPOSES = ("confirm", "manage", "unsubscribe")


@dataclass(frozen=True, slots=True)
class Link:
    subscriber_code: str
    page_code: str | None
    expired: bool


def make_token(subscriber, purpose: str, page=None) -> str:
    """`page`: the subscriber's page when the caller has it (saves a query per recipient)."""
    assert purpose in PURPOSES
    page_code = (page or subscriber.page).code
    return signing.dumps([subscriber.code, page_code], salt=f"notifications.{purpose}", compress=False)


def read_link(token: str, purpose: str) -> Link | None:
    """What a token says, expired or not; None if it was not made by us for this purpose (tampered)."""
    max_age = conf.confirm_max_age() if purpose == "confirm" else conf.link_max_age()
    salt = f"notifications.{purpose}"
    expired = False
    try:
        value = signing.loads(token, salt=salt, max_age=max_age)
    except signing.SignatureExpired:  # a good signature, too old: still tells which page it belongs to
        expired = True
        try:
            value = signing.loads(token, salt=salt)
        except signing.BadSignature:
            return None
    except signing.BadSignature:
        return None
    if isinstance(value, str):
        return Link(value, None, expired)
    if isinstance(value, list) and len(value) == 2 and all(isinstance(part, str) for part in value):
        return Link(value[0], value[1], expired)
    return None


def read_token(token: str, purpose: str) -> str | None:
    """The subscriber code in a valid token, or None (bad signature, wrong purpose or expired)."""
    found = read_link(token, purpose)
    return None if found is None or found.expired else found.subscriber_code
