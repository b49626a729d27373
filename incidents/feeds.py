"""/history.atom and /history.rss: the incident history as Statuspage's feeds, cached by page version."""

from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.utils.feedgenerator import Atom1Feed, Rss201rev2Feed
from django.utils.formats import date_format
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from incidents import access, selectors
from incidents.markup import render_markdown
from incidents.presentation import clock, local
from incidents.public_cache.views import public_view

FEED_ITEMS = 25


def host() -> str:
    return urlsplit(settings.SITE_URL).netloc


def absolute(path: str) -> str:
    return settings.SITE_URL + path


def update_html(update, page) -> str:
    """<p><small>Oct <var data-var='date'> 3</var>, <var data-var='time'>03:47</var> UTC</small><br>
    <strong>Resolved</strong> - body</p>, the body rendered from Markdown and sanitised."""
    at = local(update.display_at, page.tz)
    # Statuspage's markup (its readers parse the <var>s); the month's abbreviation in the feed's language.
    stamp = (
        f"<small>{date_format(at, 'M')} <var data-var='date'>{at.day:2d}</var>, "
        f"<var data-var='time'>{clock(at)}</var> {at.tzname()}</small>"
    )
    body = render_markdown(update.body)
    head = f"<p>{stamp}<br><strong>{_(update.label)}</strong> - "
    if body.startswith("<p>") and body.endswith("</p>") and body.count("<p>") == 1:
        return f"{head}{body[3:-4]}</p>"
    return f"{head}</p>{body}"


def incident_html(incident, page) -> str:
    return "".join(update_html(update, page) for update in incident.timeline)


class AtomWithContent(Atom1Feed):
    """Atom 1.0 with the updates in <content type="html">, as Statuspage's feed has them."""

    def add_item_elements(self, handler, item):
        super().add_item_elements(handler, item)
        handler.addQuickElement("content", item["content"], {"type": "html"})


class HistoryFeed(Feed):
    def __call__(self, request, *args, **kwargs):
        # The address's language (/fr/history.atom) or the page's (public_cache.views), as RFC 5646 writes it.
        self.language = {"en": "en-US", "pt-br": "pt-BR"}.get(get_language(), get_language())
        return super().__call__(request, *args, **kwargs)

    def get_object(self, request, page, now):
        page.seen = access.incident_filter(request)  # a viewer's audience group sees its own incidents only
        return page

    def title(self, page):
        return _("%(page)s Status - Incident History") % {"page": page.name}

    def link(self, page):
        return absolute(page.get_absolute_url())

    def description(self, page):
        return _("Incidents and updates of %(page)s.") % {"page": page.name}

    def author_name(self, page):
        return page.name

    def items(self, page):
        incidents = selectors.feed_incidents(page, FEED_ITEMS, page.seen)
        for incident in incidents:
            incident.page = page
        return incidents

    def item_title(self, incident):
        return incident.name

    def item_link(self, incident):
        return absolute(incident.page.public_url("incident", code=incident.code))

    def item_pubdate(self, incident):
        # When it was first told: its start, or for a maintenance announced ahead its first update (a window
        # still to come is not news from the future, and would make the whole feed's <updated> a future time).
        first = incident.timeline[-1].display_at if incident.timeline else incident.started_at
        return min(incident.started_at, first)

    def item_updateddate(self, incident):
        # Its latest update, whatever the stage: a published postmortem or a late correction is news again.
        return max(incident.last_update_at, self.item_pubdate(incident))


class AtomHistoryFeed(HistoryFeed):
    feed_type = AtomWithContent

    def feed_url(self, page):
        return absolute(page.public_url("history-atom"))

    def feed_guid(self, page):
        return f"tag:{host()},2005:/history"

    def item_guid(self, incident):
        # Statuspage numbers its incidents here; ours are known by their public code (pks stay internal).
        return f"tag:{host()},2005:Incident/{incident.code}"

    item_guid_is_permalink = False

    def item_description(self, incident):
        return None

    def item_extra_kwargs(self, incident):
        return {"content": incident_html(incident, incident.page)}


class RssHistoryFeed(HistoryFeed):
    feed_type = Rss201rev2Feed

    def feed_url(self, page):
        return absolute(page.public_url("history-rss"))

    def item_description(self, incident):
        return incident_html(incident, incident.page)

    def item_guid(self, incident):
        return self.item_link(incident)

    item_guid_is_permalink = True


history_atom = public_view(AtomHistoryFeed())
history_rss = public_view(RssHistoryFeed())
