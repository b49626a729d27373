"""The postmortem of a resolved incident: a draft kept on the incident, then published as one update.

Same rules as every write: one transaction, validate first, bump the page's version in it.
"""

from django.core.exceptions import ValidationError
from django.db import transaction

from incidents import events
from incidents.choices import IncidentStatus
from incidents.models import Incident, IncidentUpdate
from incidents.services.incidents import incident_post_update, published_postmortem
from incidents.services.pages import page_changed
from incidents.validation import optional_text, require_text


@transaction.atomic
def incident_postmortem_save(*, incident: Incident, body: str, notify: bool | None = None) -> Incident:
    """Keep a postmortem draft on the incident (not public until published), with its "notify" choice."""
    fields = {"postmortem": optional_text(body, "postmortem")}
    if notify is not None:
        fields["postmortem_notify"] = bool(notify)
    before = dict(Incident.objects.filter(pk=incident.pk).values(*fields).first() or {})
    Incident.objects.filter(pk=incident.pk).update(**fields)
    for name, value in fields.items():
        setattr(incident, name, value)
    changed = [name for name in fields if before.get(name) != fields[name]]
    if changed:
        events.fields_updated.send(incident, {k: before.get(k) for k in changed}, {k: fields[k] for k in changed})
    return incident


@transaction.atomic
def incident_postmortem_publish(*, incident: Incident, body: str, author=None, deliver_notifications: bool = False):
    """Publish the postmortem: one "postmortem" update per incident (Statuspage keeps one postmortem document).

    The first publication posts it as an update of the resolved incident; publishing again replaces the text of
    that update (its display time stays) and emails subscribers only if asked (`deliver_notifications`), as an
    edited postmortem. The draft becomes the published text, and its "notify" choice is cleared.
    Returns the postmortem update.
    """
    body = require_text(body, "postmortem")
    incident = Incident.objects.select_for_update().get(pk=incident.pk)
    if incident.is_open:
        raise ValidationError({"postmortem": "Resolve the incident before publishing its postmortem."})
    if incident.is_maintenance:
        raise ValidationError({"postmortem": "A maintenance has no postmortem."})
    incident_postmortem_save(incident=incident, body=body, notify=False)
    published = published_postmortem(incident)
    if published is None:
        return incident_post_update(
            incident=incident,
            status=IncidentStatus.POSTMORTEM,
            body=body,
            author=author,
            deliver_notifications=deliver_notifications,
        )
    published = IncidentUpdate.objects.select_for_update().get(pk=published.pk)
    published.body = body
    fields = ["body", "updated_at"]
    if deliver_notifications:
        published.deliver_notifications = True
        fields.append("deliver_notifications")
    published.save(update_fields=fields)
    page_changed(incident.page_id)
    if deliver_notifications:
        events.update_edited.send(published)
    return published
