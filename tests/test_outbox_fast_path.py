"""Over SMTP, an update's email is encoded once and each recipient's copy is filled in (the fan-out's pace):
the copy is the same message Django would build for that recipient, header for header, part for part."""

import email
from email.policy import default

import pytest
import time_machine
from django.utils import timezone

from incidents import services
from incidents.choices import ComponentStatus as S
from incidents.choices import IncidentStatus
from notifications.emails import NotificationEmail
from notifications.models import Notification
from tests.notify_helpers import confirmed

pytestmark = pytest.mark.django_db


def parsed(data: bytes):
    return email.message_from_bytes(data, policy=default)


@pytest.mark.parametrize("second_update", [False, True])
def test_a_filled_in_copy_is_the_message_django_builds_for_that_recipient(page, make_component, second_update):
    api = make_component("API")
    readers = [
        confirmed(page, "all@example.com"),
        confirmed(page, "Chosen.One@example.com", components=[api]),
    ]
    incident = services.incident_create(
        page=page, name="Ünïcode — outage", body="We are **investigating**.\n\n| a | b |\n|---|---|\n| 1 | 2 |",
        components={api: S.MAJOR_OUTAGE}, deliver_notifications=True,
    )  # fmt: skip
    if second_update:
        services.incident_post_update(incident=incident, body="Fixed.", status=IncidentStatus.RESOLVED)
    notification = Notification.objects.filter(update__incident=incident).order_by("-id").first()
    renderer = NotificationEmail(notification)
    for reader in readers:
        # Both copies within one second: the links' signed tokens carry the time to the second.
        with time_machine.travel(timezone.now(), tick=False):
            raw = renderer.raw(reader)
            assert raw is not None
            assert raw.to == reader.email
            fast, slow = parsed(raw.data), parsed(renderer.build(reader).message().as_bytes(linesep="\r\n"))
        names = [name for name in slow if name != "Date"]
        assert [name for name in fast if name != "Date"] == names
        for name in names:
            if name != "Content-Type":  # its boundary is drawn at random
                # A long value is folded in Django's copy (a leading space once unfolded), whole in ours.
                assert fast[name].strip() == slow[name].strip(), name
        assert fast.get_content_type() == slow.get_content_type() == "multipart/alternative"
        for kind in ("plain", "html"):
            assert fast.get_body((kind,)).get_content() == slow.get_body((kind,)).get_content()
        assert reader.code in fast["Message-ID"]
        assert (fast["In-Reply-To"] is not None) is second_update
