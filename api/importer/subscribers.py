"""Importing subscribers: email ones through the subscription rules (no email to those confirmed at the source),
webhook ones through the SSRF guard. A part of the importer's Writer (api/importer/writer.py)."""

from api.importer.records import Skip, claimed_elsewhere, keep_source_id
from incidents.models import Incident
from notifications import services as notifications
from notifications.endpoint_subscribers import subscribe_endpoint
from notifications.models import Subscriber


class SubscriberWriter:
    """Needs the Writer's `snapshot`, `page`, `components`, `groups`, `report` and `_one`."""

    def import_subscribers(self) -> None:
        for number, item in enumerate(self.snapshot.subscribers, 1):
            self._one("subscribers", self._subscriber, item)
            self.report.progress("subscribers", number, len(self.snapshot.subscribers))

    def _subscriber(self, item: dict) -> str:
        code, page = item["id"], self.page
        mode = item.get("mode") or ("webhook" if item.get("endpoint") else "email" if item.get("email") else "")
        if mode not in ("email", "webhook") or not item.get("endpoint" if mode == "webhook" else "email"):
            raise Skip(f"{mode or 'unknown'} subscribers: only email and webhook subscribers are supported")
        state = item.get("state") or "active"
        if state == "quarantined":
            raise Skip("quarantined at the source (their address refused mail)")
        scope = item.get("components") or []
        chosen = [c if isinstance(c, str) else c.get("id") for c in scope]
        components = [self.components[c] for c in chosen if c in self.components]
        groups = [self.groups[c] for c in chosen if c in self.groups]
        subscriber = Subscriber.objects.filter(page=page, code=code).first()
        if mode == "webhook" and subscriber is None:
            return self._webhook(item, code, components, groups, confirmed=state in ("active", "confirmed"))
        if subscriber is not None:
            now = {c.code for c in subscriber.components.all()} | {g.code for g in subscriber.groups.all()}
            if now == {c.code for c in components} | {g.code for g in groups}:
                return "unchanged"
            notifications.subscriber_set_components(subscriber=subscriber, components=components, groups=groups)
            return "updated"
        incident = None
        if item.get("incident_id"):
            incident = Incident.objects.filter(page=page, code=item["incident_id"]).first()
            if incident is None or not incident.is_open:
                raise Skip("subscribed to one incident that is not open here")
        if Subscriber.objects.filter(page=page, email__iexact=item["email"], incident=incident).exists():
            raise Skip("the address is subscribed here already (under another id)")
        if claimed_elsewhere(Subscriber, code, page):
            raise Skip(f"{code}: the id belongs to a subscriber of another page here")
        # Confirmed there: confirmed here, with no email at all; unconfirmed: asked to confirm (one email).
        subscriber = notifications.subscribe(
            page=page, email=item["email"], components=components, groups=groups, incident=incident,
            confirmed=state in ("active", "confirmed"),
        )  # fmt: skip
        if subscriber is None:
            raise Skip("refused by the subscription rules")
        keep_source_id(subscriber, code, item.get("created_at"))
        return "imported"

    def _webhook(self, item: dict, code: str, components, groups, *, confirmed: bool) -> str:
        """A webhook subscriber: the endpoint passes the SSRF guard here too. Statuspage does not sign its
        webhooks; here each gets a new signing secret (its consumers may ignore the signature header)."""
        if Subscriber.objects.filter(page=self.page, endpoint=item["endpoint"]).exists():
            raise Skip("the endpoint is subscribed here already (under another id)")
        if claimed_elsewhere(Subscriber, code, self.page):
            raise Skip(f"{code}: the id belongs to a subscriber of another page here")
        subscriber, _secret = subscribe_endpoint(
            page=self.page, channel="webhook", endpoint=item["endpoint"], email=item.get("email") or "",
            components=components, groups=groups, confirmed=confirmed,
        )  # fmt: skip
        keep_source_id(subscriber, code, item.get("created_at"))
        return "imported"
