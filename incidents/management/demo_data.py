"""Demo data: two fictional companies whose timelines follow the shapes of the seeds.

Page one (Chirpdesk, a support-inbox product) carries a minor incident on one component with nine staged
updates, two of them near-identical a minute apart, and a Markdown postmortem a week later. Page two
(Beaconly, a push-notification platform) carries a major incident across three component groups with
"Update" entries between the stages and a postmortem, plus an incident still open. Both have older
incidents for the history. Times are anchored to today so that "Past Incidents" has content.
"""

from datetime import UTC, datetime, time, timedelta

from django.db import transaction
from django.utils import timezone

from incidents import services
from incidents.choices import ComponentStatus as S
from incidents.choices import IncidentStatus as I
from incidents.models import Page
from incidents.services.maintenance import maintenance_complete, maintenance_create, maintenance_start

CHIRPDESK = "chirpdeskdmo"
BEACONLY = "beaconlydemo"


def _utc(days_ago: int, hh_mm: str) -> datetime:
    """A moment `days_ago` days before today, at HH:MM UTC."""
    day = timezone.now().date() - timedelta(days=days_ago)
    hours, minutes = map(int, hh_mm.split(":"))
    return datetime.combine(day, time(hours, minutes), tzinfo=UTC)


def _since():
    """The demo components came into service half a year ago, so their uptime bars are full."""
    return timezone.now().date() - timedelta(days=180)


def _fresh_page(code: str, name: str, time_zone: str, url: str) -> Page:
    page = Page.objects.filter(code=code).first()
    if page is None:
        return services.page_create(name=name, time_zone=time_zone, url=url, code=code)
    page.incidents.all().delete()
    page.components.all().delete()
    page.groups.all().delete()
    Page.objects.filter(pk=page.pk).update(name=name, time_zone=time_zone, url=url)
    page.refresh_from_db()
    return page


def _timeline(page, name, steps, *, components=None, affected=None, promise=None):
    """Enter a timeline: steps are (display_at, status, body, component changes or None).

    `promise` (a duration) is the next-update promise of the last step.
    """
    (first_at, first_status, first_body, first_changes), *rest = steps
    incident = services.incident_create(
        page=page,
        name=name,
        status=first_status,
        body=first_body,
        components=first_changes or components,
        affected=affected,
        display_at=first_at,
        deliver_notifications=False,
        next_update_in=None if rest else promise,
    )
    for number, (display_at, status, body, changes) in enumerate(rest, start=1):
        services.incident_post_update(
            incident=incident,
            status=status,
            body=body,
            components=changes,
            display_at=display_at,
            deliver_notifications=False,
            next_update_in=promise if number == len(rest) else None,
        )
    return incident


CHIRPDESK_POSTMORTEM = """\
## **Summary**
On the day of the incident, replies sent through the WhatsApp channel queued for up to three hours. Some replies reached customers after the media attached to them had expired.

## **Root cause**
A sudden burst of inbound conversations pushed our WhatsApp sender past its capacity. It was scaling out, but not fast enough: latency rose, requests timed out, and **our own retries multiplied the load**. Some timed-out sends had in fact succeeded, so a number of customers received the **same reply twice**.

## **Timeline** (UTC)
- **17:33** Alert fired on the sender's queue depth.
- **17:41** Incident declared; recent releases ruled out.
- **19:04** Cause found: retry storm on top of a traffic burst.
- **20:10** Sender scaled out and the retry budget lowered; queue draining.
- **21:01** Queue empty, latency normal.

## **What we are changing**
* **Idempotent sends** — every reply carries a key, so a retried send is never delivered twice.
    * Status: Done
* **Faster scaling** — the sender now scales on queue depth, not CPU.
    * Status: Done
* **Retry budget** — retries are capped per minute instead of per message.
    * Status: Done
* **Media expiry** — re-upload media that expired while a reply waited.
    * Status: In progress
"""

BEACONLY_POSTMORTEM = """\
## Summary
For about six hours our message pipeline stopped processing work after a storage cluster failed over badly. The API kept answering **202 Accepted** for part of that time while nothing was being processed.

## Impact

| Area | Impact |
|:-----|:-------|
| Push campaigns | Delayed by up to one hour |
| Transactional push | Delayed by up to two hours |
| Public APIs | About 15% of calls failed; accepted calls were processed late |
| Web SDK | Some events were lost |

## Timeline (Europe/Paris)

| Time | Event |
|-----:|:------|
| 18:02 | Storage failover starts; queue consumers stall |
| 18:47 | Workaround restores push campaigns |
| 19:48 | Transactional push resumes |
| 23:33 | Full recovery; backlog processing starts |

## What we are changing
1. Health checks now verify that accepted work is actually **consumed**, not just enqueued.
2. Failover is rehearsed monthly.
3. The API returns `503` instead of `202` when the pipeline cannot make progress.

```
retry_policy: exponential, max_attempts=5, jitter=full
```
"""


@transaction.atomic
def load_chirpdesk() -> Page:
    page = _fresh_page(CHIRPDESK, "Chirpdesk", "UTC", "https://chirpdesk.example")
    core = services.component_group_create(
        page=page, name="Core platform", description="The inbox, search and reporting."
    )
    inbox = services.component_create(start_date=_since(), page=page, group=core, name="Inbox")
    search = services.component_create(start_date=_since(), page=page, group=core, name="Search")
    services.component_create(
        start_date=_since(), page=page, group=core, name="Reporting", description="Dashboards and exports."
    )
    channels = services.component_group_create(
        page=page, name="Channels", description="Where your customers reach you."
    )
    services.component_create(start_date=_since(), page=page, group=channels, name="Channel - Email")
    services.component_create(start_date=_since(), page=page, group=channels, name="Channel - SMS")
    whatsapp = services.component_create(start_date=_since(), page=page, group=channels, name="Channel - WhatsApp")
    services.component_create(start_date=_since(), page=page, name="Public API", description="REST API and webhooks.")

    d = 8  # the incident; its postmortem follows a week later
    waiting = (
        "We are aware that replies sent through the WhatsApp channel are waiting in the queue before they go "
        "out. Our team is working to find the cause. We will post another update within 30 minutes."
    )
    _timeline(
        page,
        "WhatsApp replies delayed",
        [
            (_utc(d, "17:41"), I.INVESTIGATING, waiting, {whatsapp: S.DEGRADED_PERFORMANCE}),
            (_utc(d, "17:42"), I.INVESTIGATING, waiting, None),
            (
                _utc(d, "18:05"),
                I.INVESTIGATING,
                "We are still looking for the cause of the delayed WhatsApp replies. Next update within 30 minutes.",
                None,
            ),
            (
                _utc(d, "18:34"),
                I.INVESTIGATING,
                "The investigation continues. Replies are delayed, not lost. Next update within 30 minutes.",
                None,
            ),
            (
                _utc(d, "19:04"),
                I.IDENTIFIED,
                "We found the cause: a burst of traffic overloaded the WhatsApp sender "
                "and retries made it worse. We are putting a fix in place. Next update within 30 minutes.",
                None,
            ),
            (_utc(d, "19:32"), I.IDENTIFIED, "The fix is rolling out. Next update within 30 minutes.", None),
            (_utc(d, "20:01"), I.IDENTIFIED, "The rollout is almost complete. Next update within 30 minutes.", None),
            (
                _utc(d, "20:10"),
                I.MONITORING,
                "The fix is live and the queue is draining. We are watching it closely.",
                None,
            ),
            (
                _utc(d, "21:01"),
                I.RESOLVED,
                "WhatsApp replies are going out without delay again. Thank you for your patience.",
                {whatsapp: S.OPERATIONAL},
            ),
            (_utc(d - 7, "19:37"), I.POSTMORTEM, CHIRPDESK_POSTMORTEM, None),
        ],
    )
    _timeline(
        page,
        "Search results incomplete",
        [
            (_utc(41, "09:12"), I.INVESTIGATING, "Some searches return fewer results than expected.", None),
            (_utc(41, "10:02"), I.RESOLVED, "The search index has been rebuilt; results are complete.", None),
        ],
        affected=[search],
    )
    # A maintenance that ran three weeks ago, and one coming up the day after tomorrow.
    past = maintenance_create(
        page=page,
        name="Search cluster upgrade",
        body="We will upgrade the search cluster. Search may return partial results for a few minutes.",
        scheduled_for=_utc(21, "02:00"),
        scheduled_until=_utc(21, "03:00"),
        components=[search],
        deliver_notifications=False,
        display_at=_utc(25, "10:00"),
    )
    maintenance_start(maintenance=past, deliver_notifications=False, display_at=_utc(21, "02:00"))
    maintenance_complete(maintenance=past, deliver_notifications=False, display_at=_utc(21, "02:48"))
    maintenance_create(
        page=page,
        name="Database maintenance",
        body="We are moving the inbox database to faster storage. The inbox may be read-only for up to **15 "
        "minutes** during the window; no message will be lost.",
        scheduled_for=_utc(-2, "02:00"),
        scheduled_until=_utc(-2, "04:00"),
        components=[inbox, search],
        deliver_notifications=False,
        display_at=timezone.now() - timedelta(hours=3),
    )
    _timeline(
        page,
        "Inbox slow to load",
        [
            (
                _utc(77, "14:20"),
                I.INVESTIGATING,
                "The inbox takes longer than usual to load.",
                {inbox: S.DEGRADED_PERFORMANCE},
            ),
            (_utc(77, "14:55"), I.MONITORING, "A slow database query was fixed. We are monitoring.", None),
            (_utc(77, "15:30"), I.RESOLVED, "The inbox loads normally again.", {inbox: S.OPERATIONAL}),
        ],
    )
    return page


@transaction.atomic
def load_beaconly() -> Page:
    page = _fresh_page(BEACONLY, "Beaconly", "Europe/Paris", "https://beaconly.example")
    api = services.component_group_create(page=page, name="API")
    transactional_api = services.component_create(start_date=_since(), page=page, group=api, name="Transactional API")
    campaigns_api = services.component_create(start_date=_since(), page=page, group=api, name="Campaigns API")
    audience_api = services.component_create(start_date=_since(), page=page, group=api, name="Custom Audience API")
    web = services.component_group_create(page=page, name="Webservices")
    sdk = services.component_create(
        start_date=_since(), page=page, group=web, name="SDK", description="Mobile and web SDK endpoints."
    )
    delivery = services.component_group_create(page=page, name="Delivery")
    push = services.component_create(start_date=_since(), page=page, group=delivery, name="Push campaigns")
    transactional_push = services.component_create(
        start_date=_since(), page=page, group=delivery, name="Transactional push"
    )
    email_sms = services.component_create(start_date=_since(), page=page, group=delivery, name="Email & SMS")
    dashboard = services.component_create(
        start_date=_since(), page=page, name="Dashboard", description="The web dashboard and analytics."
    )

    everything = [transactional_api, campaigns_api, audience_api, sdk, push, transactional_push, email_sms]
    d = 12
    _timeline(
        page,
        "Notifications, API and SDK services unavailable",
        [
            (
                _utc(d, "17:09"),
                I.INVESTIGATING,
                "Since 18:40 (Paris time) notifications, email, SMS, the API and the SDK web services are down. "
                "We are investigating and will share more as soon as we know it.",
                dict.fromkeys(everything, S.PARTIAL_OUTAGE),
            ),
            (
                _utc(d, "17:47"),
                I.IDENTIFIED,
                "We have found the root cause and are confirming which services it touches.\n\n"
                "A workaround has restarted **push campaigns**; delayed notifications are being delivered "
                "progressively. Delivery analytics are unavailable while the workaround is in place.",
                {push: S.DEGRADED_PERFORMANCE},
            ),
            (_utc(d, "18:18"), I.IDENTIFIED, "We are still working on a fix.", None),
            (
                _utc(d, "18:19"),
                I.IDENTIFIED,
                "The workaround now also covers **email and SMS campaigns**. Queued messages are going out progressively.",
                {email_sms: S.DEGRADED_PERFORMANCE},
            ),
            (
                _utc(d, "18:48"),
                I.IDENTIFIED,
                "Transactional push is flowing again; the backlog is being delivered.\n\nA complete fix is still in progress.",
                {transactional_push: S.DEGRADED_PERFORMANCE},
            ),
            (_utc(d, "19:48"), I.IDENTIFIED, "Work on a complete fix continues. Next update in an hour.", None),
            (
                _utc(d, "21:01"),
                I.IDENTIFIED,
                "To prepare the final repair we are pausing the API and SDK web services for a short while. "
                "Calls will fail with HTTP 500 during that time.\n\nNext update in an hour.",
                None,
            ),
            (
                _utc(d, "22:33"),
                I.MONITORING,
                "The repair is complete. APIs and SDKs work again and data ingestion resumed at 23:45 (Paris time).\n\n"
                "- No analytics were collected between 19:47 and 00:20 (Paris time); they cannot be recovered.\n"
                "- Open rates for that window will look wrong.\n\nWe keep monitoring.",
                {c: S.OPERATIONAL for c in everything if c is not audience_api},
            ),
            (
                _utc(d - 1, "09:23"),
                I.MONITORING,
                "The Custom Audience API returned errors until 10:31 (Paris time). It works as expected now.",
                {audience_api: S.OPERATIONAL},
            ),
            (
                _utc(d - 1, "13:26"),
                I.RESOLVED,
                "Everything has worked normally since our last update; we consider this incident resolved.\n\n"
                "**Action needed:** calls that failed with an error were not queued; please retry the important ones.",
                None,
            ),
            (_utc(d - 5, "16:29"), I.POSTMORTEM, BEACONLY_POSTMORTEM, None),
        ],
    )
    _timeline(
        page,
        "Delayed campaign statistics",
        [
            (
                _utc(33, "08:15"),
                I.INVESTIGATING,
                "Campaign statistics in the dashboard are a few hours behind.",
                {dashboard: S.DEGRADED_PERFORMANCE},
            ),
            (_utc(33, "09:40"), I.RESOLVED, "Statistics have caught up.", {dashboard: S.OPERATIONAL}),
        ],
    )
    _timeline(
        page,
        "Elevated error rate on the Campaigns API",
        [
            (
                _utc(96, "12:02"),
                I.INVESTIGATING,
                "About 3% of Campaigns API calls fail.",
                {campaigns_api: S.PARTIAL_OUTAGE},
            ),
            (_utc(96, "12:30"), I.IDENTIFIED, "A bad configuration change is being rolled back.", None),
            (
                _utc(96, "12:51"),
                I.RESOLVED,
                "The rollback is complete and errors are back to normal.",
                {campaigns_api: S.OPERATIONAL},
            ),
        ],
    )
    # An incident that is still open, so the demo shows one in place of the banner.
    now = timezone.now()
    _timeline(
        page,
        "Dashboard exports are slow",
        [
            (
                now - timedelta(minutes=47),
                I.INVESTIGATING,
                "CSV exports from the dashboard take several minutes to start. We are looking into it.",
                {dashboard: S.DEGRADED_PERFORMANCE},
            ),
            (
                now - timedelta(minutes=12),
                I.IDENTIFIED,
                "An export worker pool is undersized after this morning's deploy. We are adding capacity.",
                None,
            ),
        ],
        promise=timedelta(minutes=30),
    )
    return page


def load_demo() -> list[Page]:
    return [load_chirpdesk(), load_beaconly()]
