"""Celery tasks of the incidents app, run by beat every minute: update promises and maintenance stages."""

import logging
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from incidents import events
from incidents.choices import ACTIVE_MAINTENANCE_STATUSES, UNRESOLVED_STATUSES, MaintenanceStatus
from incidents.models import Incident, IncidentUpdate
from incidents.presentation import format_posted

log = logging.getLogger(__name__)

REMIND_BEFORE = timedelta(minutes=5)


def staff_addresses(page) -> list[str]:
    """Everyone who can post an update on the page (the permission on it, whichever role gives it; superusers
    too): active staff with an address. Staff of other pages never hear of this page's incidents."""
    users = get_user_model().objects.filter(is_active=True, is_staff=True).exclude(email="")
    return sorted(user.email for user in users if user.has_perm("incidents.add_incidentupdate", page))


def _claim(update_id: int, field: str) -> bool:
    """Mark a reminder as sent with a conditional UPDATE: true for exactly one caller."""
    return (
        IncidentUpdate.objects.filter(pk=update_id, **{f"{field}__isnull": True}).update(**{field: timezone.now()}) == 1
    )


def _latest_promising_update(incident: Incident) -> IncidentUpdate | None:
    latest = incident.updates.order_by("-display_at", "-id").first()
    return latest if latest is not None and latest.next_update_at == incident.next_update_at else None


@shared_task(ignore_result=True)
def watch_update_promises() -> int:
    """Remind the page's staff a few minutes before a promised update is due, and again once it is late.

    Each reminder fires once per promise: it is claimed on the update row before the email goes out.
    The email is sent outside any transaction. Returns the number of emails sent.
    """
    now = timezone.now()
    due = Incident.objects.filter(
        status__in=UNRESOLVED_STATUSES, next_update_at__isnull=False, next_update_at__lte=now + REMIND_BEFORE
    ).select_related("page")
    sent = 0
    recipients = {}  # by page
    for incident in due:
        update = _latest_promising_update(incident)
        if update is None:
            continue
        late = incident.next_update_at <= now
        field = "promise_overdue_sent_at" if late else "promise_reminder_sent_at"
        if not _claim(update.pk, field):
            continue
        if incident.page_id not in recipients:
            recipients[incident.page_id] = staff_addresses(incident.page)
        if not recipients[incident.page_id]:
            log.warning("No staff address to remind about incident %s", incident.code)
            continue
        when = format_posted(incident.next_update_at, incident.page.tz)
        if late:
            subject = f"[{incident.page.name}] Overdue: the update promised for {when} on “{incident.name}”"
            opening = f"The next update of “{incident.name}” was promised for {when}. It has not been posted yet."
        else:
            subject = f"[{incident.page.name}] Update due at {when}: “{incident.name}”"
            opening = f"The next update of “{incident.name}” is promised for {when}."
        link = f"{settings.SITE_URL}/admin/incidents/incident/{incident.pk}/change/"
        try:
            send_mail(subject, f"{opening}\n\nPost it here: {link}\n", None, recipients[incident.page_id])
        except Exception:
            # Give the claim back so that the next run tries again: a reminder is never lost to an SMTP hiccup.
            IncidentUpdate.objects.filter(pk=update.pk).update(**{field: None})
            log.exception("Could not send the promise reminder for incident %s; will retry", incident.code)
            continue
        sent += 1
    return sent


@shared_task(ignore_result=True)
def advance_maintenances() -> int:
    """Start and complete the maintenances that asked for it, once their time has come (beat, every minute).

    Each maintenance is moved in its own transaction with its row locked, so a second run moves nothing.
    Returns how many maintenances changed stage.
    """
    from incidents.services.maintenance import advance_due_maintenance

    now = timezone.now()
    due = Incident.objects.filter(
        Q(status=MaintenanceStatus.SCHEDULED, scheduled_auto_in_progress=True, scheduled_for__lte=now)
        | Q(status__in=ACTIVE_MAINTENANCE_STATUSES, scheduled_auto_completed=True, scheduled_until__lte=now)
    ).values_list("pk", "status")
    moved = 0
    for pk, status in list(due):
        if advance_due_maintenance(pk, now) != status:
            moved += 1
    return moved


REMIND_SUBSCRIBERS_BEFORE = timedelta(minutes=60)


@shared_task(ignore_result=True)
def remind_maintenance_subscribers() -> int:
    """60 minutes before a maintenance that asked for it, remind its subscribers (beat, every minute).

    The reminder is claimed on the maintenance row (a conditional UPDATE) in the same transaction that
    creates its outbox row, so it goes out once, and is lost neither to a crash nor to a broker outage.
    """
    now = timezone.now()
    due = Incident.objects.filter(
        status=MaintenanceStatus.SCHEDULED,
        scheduled_remind_prior=True,
        reminder_sent_at__isnull=True,
        scheduled_for__lte=now + REMIND_SUBSCRIBERS_BEFORE,
        scheduled_for__gt=now,
    ).values_list("pk", flat=True)
    sent = 0
    for pk in list(due):
        with transaction.atomic():
            if Incident.objects.filter(pk=pk, reminder_sent_at__isnull=True).update(reminder_sent_at=now) != 1:
                continue
            events.maintenance_reminder_due.send(Incident.objects.get(pk=pk))
            sent += 1
    return sent


# Publishing holds no outbox claim, so it may outlive the short default limit (a full copy of a large page, or
# of every page, can take a minute on a small machine).
PUBLISH_LIMITS = {"time_limit": 600, "soft_time_limit": 570}


BUSY_RETRY_SECONDS = 15  # a task that found another publisher at work tries once more this much later


@shared_task(ignore_result=True, **PUBLISH_LIMITS)
def publish_page(page_id: int, retried: bool = False) -> None:
    """Republish one page's static copy after a change (enqueued on commit by page_changed, debounced).

    Re-reads the page; a page that is gone has its files removed. Another publisher at work is waited for
    (a few seconds); then the task tries once more a little later, and after that leaves it to beat
    (which republishes every page each minute): it never loops holding a worker slot.
    """
    from incidents.publishing import pending_key, run

    if not settings.PUBLISH_TARGET:
        return
    try:
        from django.core.cache import cache

        cache.delete(pending_key(page_id))  # from here on, a new change enqueues a new task
    except Exception:
        pass
    try:
        run.publish_page(page_id)
    except run.Busy:
        if retried or publish_page.app.conf.task_always_eager:
            log.warning("Page %s not republished: another publisher is busy; beat republishes it", page_id)
            return
        try:
            publish_page.apply_async((page_id,), {"retried": True}, countdown=BUSY_RETRY_SECONDS, retry=False)
        except Exception:
            log.warning("Page %s not republished (busy, broker down); beat republishes it", page_id)


@shared_task(ignore_result=True, **PUBLISH_LIMITS)
def publish_all_pages() -> None:
    """Republish every page's static copy (beat, every minute): what moves with the clock, pages gone."""
    from incidents.publishing.run import Busy, publish_all

    if not settings.PUBLISH_TARGET:
        return
    try:
        publish_all()
    except Busy:
        log.info("Skipped a scheduled republication: another publisher is busy")


@shared_task(ignore_result=True)
def send_access_link(page_id: int, email: str, language: str = "") -> None:
    """Email a sign-in link to a non-public page (asked for on its sign-in page; the address was checked), in
    the language of the sign-in page it was asked on (empty: the page's default)."""
    from incidents.access import link_token
    from incidents.languages import speaking_to
    from incidents.models import Page

    page = Page.objects.filter(pk=page_id).first()
    if page is None or page.is_public:
        return
    with speaking_to(page, language):
        link = settings.SITE_URL + page.public_url("access-link", token=link_token(page, email))
        values = {"page": page.name, "minutes": settings.PAGE_ACCESS_LINK_MINUTES, "link": link}
        body = "\n\n".join(
            [
                _("Someone (we hope you) asked to read the %(page)s status page.") % values,
                _("Sign in here (the link works for %(minutes)s minutes):") % values + "\n" + link,
                _("If you did not ask for it, ignore this email.") + "\n",
            ]
        )
        subject = _("Sign in to %(name)s Status") % {"name": page.name}
    send_mail(subject, body, None, [email])
