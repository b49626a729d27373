"""Domain events: how `incidents` tells other apps what happened without importing them.

A receiver is called synchronously, inside the writing transaction, so what it writes (e.g. the outbox row of
notifications) commits or rolls back with the change itself. Other apps connect in their AppConfig.ready.
"""

from collections.abc import Callable


class Event:
    """A named list of receivers; `send` calls each in the order they connected."""

    def __init__(self, name: str):
        self.name = name
        self._receivers: list[Callable] = []

    def connect(self, receiver: Callable) -> Callable:
        if receiver not in self._receivers:
            self._receivers.append(receiver)
        return receiver

    def disconnect(self, receiver: Callable) -> None:
        if receiver in self._receivers:
            self._receivers.remove(receiver)

    def send(self, *args, **kwargs) -> None:
        for receiver in list(self._receivers):
            receiver(*args, **kwargs)

    def __repr__(self):
        return f"<Event {self.name}: {len(self._receivers)} receivers>"


# An update was posted (incident_create, incident_post_update, maintenance stages): receivers get the
# IncidentUpdate, inside the transaction that created it.
update_posted = Event("update_posted")
# A published update's text was replaced and the responder asked to tell subscribers (an edited postmortem):
# receivers get the IncidentUpdate, inside the transaction that edited it.
update_edited = Event("update_edited")
# A maintenance's reminder is due (incidents/tasks.py claimed it): receivers get the maintenance Incident, inside
# the transaction that claimed the reminder.
maintenance_reminder_due = Event("maintenance_reminder_due")
# A component's status changed (incidents.services.pages.apply_component_status): receivers get the
# ComponentStatusChange, inside the transaction that recorded it.
component_status_changed = Event("component_status_changed")
# A write that no model save sees (a conditional UPDATE: the default page, a logo, a postmortem draft):
# receivers get (instance, before, after), dicts of the fields it changed, inside the writing transaction.
fields_updated = Event("fields_updated")
