"""Chat messages of an incident update, each native to its app: Slack Block Kit, a Microsoft Teams Adaptive Card,
a Discord embed. Built once per notification (no per-subscriber part).

Each shows the incident's name, the update's label ("Update" when the stage did not change), its body in the app's
own formatting, the affected components with their status, a link to the incident page and the page's status
colour. The body goes through the same Markdown renderer and sanitiser as the pages (incidents.markup), and the
sanitised HTML is then written out in the app's markup, so nothing the page would refuse reaches a chat.
"""

from html.parser import HTMLParser

from django.conf import settings

from incidents.markup import render_markdown
from incidents.models import IncidentUpdate
from incidents.selectors import affected_components, incident_timeline, page_components, status_of

# The page's indicator as a colour (Statuspage's palette).
INDICATOR_COLOURS = {
    "none": "#2fcc66",
    "minor": "#f1c40f",
    "major": "#e67e22",
    "critical": "#e74c3c",
    "maintenance": "#3498db",
}
STATUS_WORDS = {
    "operational": "Operational",
    "degraded_performance": "Degraded performance",
    "partial_outage": "Partial outage",
    "major_outage": "Major outage",
    "under_maintenance": "Under maintenance",
}
LIMITS = {"slack": 2900, "teams": 20000, "discord": 4000}


class Dialect:
    def __init__(self, bold, italic, strike, code, pre, link, escape=None):
        self.bold, self.italic, self.strike, self.code, self.pre, self.link = bold, italic, strike, code, pre, link
        self.escape = escape or (lambda text: text)


DIALECTS = {
    # Slack's mrkdwn: & < > escaped, links as <url|text>.
    "slack": Dialect(
        "*",
        "_",
        "~",
        "`",
        "```",
        "<{url}|{text}>",
        escape=lambda t: t.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"),
    ),  # fmt: skip
    "teams": Dialect("**", "_", "", "`", "", "[{text}]({url})"),
    # Discord: Markdown; a bare @everyone must not ping (allowed_mentions is empty too).
    "discord": Dialect("**", "*", "~~", "`", "```", "[{text}]({url})", escape=lambda t: t.replace("@", "@\u200b")),
}


class _Writer(HTMLParser):
    """Sanitised HTML → one app's markup (paragraphs, emphasis, code, links, lists, headings, table rows)."""

    BLOCKS = {"p", "ul", "ol", "pre", "table", "blockquote", "h1", "h2", "h3", "h4", "h5", "h6", "tr"}

    def __init__(self, dialect: Dialect):
        super().__init__(convert_charrefs=True)
        self.d = dialect
        self.out: list[str] = []
        self.links: list[tuple[int, str]] = []
        self.in_pre = False

    def _mark(self, tag):
        return {
            "strong": self.d.bold, "b": self.d.bold, "em": self.d.italic, "i": self.d.italic,
            "del": self.d.strike, "s": self.d.strike, "h1": self.d.bold, "h2": self.d.bold, "h3": self.d.bold,
            "h4": self.d.bold, "h5": self.d.bold, "h6": self.d.bold,
        }.get(tag)  # fmt: skip

    def handle_starttag(self, tag, attrs):
        if tag in self.BLOCKS and self.out and not self.out[-1].endswith("\n"):
            self.out.append("\n")
        if tag == "li":
            self.out.append("• ")
        elif tag == "br":
            self.out.append("\n")
        elif tag == "pre":
            self.in_pre = True
            self.out.append(self.d.pre + "\n" if self.d.pre else "")
        elif tag == "code" and not self.in_pre:
            self.out.append(self.d.code)
        elif tag == "a":
            self.links.append((len(self.out), dict(attrs).get("href") or ""))
        elif tag in ("td", "th") and self.out and not self.out[-1].endswith("\n"):
            self.out.append(" | ")
        elif mark := self._mark(tag):
            self.out.append(mark)

    def handle_endtag(self, tag):
        if tag == "pre":
            self.in_pre = False
            self.out.append(("\n" + self.d.pre) if self.d.pre else "")
        elif tag == "code" and not self.in_pre:
            self.out.append(self.d.code)
        elif tag == "a" and self.links:
            start, url = self.links.pop()
            text = "".join(self.out[start:]).strip()
            del self.out[start:]
            if url.startswith(("http://", "https://", "mailto:")):
                self.out.append(self.d.link.format(url=url, text=text or url))
            else:
                self.out.append(text)
        elif mark := self._mark(tag):
            self.out.append(mark)
        if tag in self.BLOCKS or tag == "li":
            self.out.append("\n")

    def handle_data(self, data):
        self.out.append(self.d.escape(data if self.in_pre else " ".join(data.split("\n"))))

    def text(self) -> str:
        lines = "".join(self.out).split("\n")
        kept, blank = [], False
        for line in (line.rstrip() for line in lines):
            if line or not blank:
                kept.append(line)
            blank = not line
        return "\n".join(kept).strip()


def to_markup(markdown_text: str, app: str) -> str:
    """A Markdown body as the app's own formatting, from the sanitised HTML; cut to the app's limit."""
    writer = _Writer(DIALECTS[app])
    writer.feed(render_markdown(markdown_text))
    writer.close()
    text = writer.text()
    limit = LIMITS[app]
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _facts(notification) -> dict:
    update = IncidentUpdate.objects.select_related("incident__page").get(pk=notification.update_id)
    incident, page = update.incident, update.incident.page
    label = next(
        (u.label for u in incident_timeline(incident, fields=("id", "status", "display_at")) if u.pk == update.pk),
        "Update",
    )
    status = status_of(page, page_components(page))
    return {
        "page": page.name,
        "name": incident.name,
        "label": "Reminder" if notification.kind == "reminder" else label,
        "body": update.body,
        "components": [(c.name, STATUS_WORDS.get(c.status, c.status)) for c in affected_components(incident)],
        "url": settings.SITE_URL + page.public_url("incident", code=incident.code),
        "colour": INDICATOR_COLOURS.get(str(status.indicator), INDICATOR_COLOURS["none"]),
        "status": status.description,
    }


def slack(facts: dict) -> dict:
    esc = DIALECTS["slack"].escape
    blocks = [
        {"type": "header", "text": {"type": "plain_text", "text": f"{facts['name']}: {facts['label']}"[:150]}},
        {"type": "section", "text": {"type": "mrkdwn", "text": to_markup(facts["body"], "slack") or " "}},
    ]
    if facts["components"]:
        lines = "\n".join(f"• {esc(name)}: {status}" for name, status in facts["components"])
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": f"*Affected components*\n{lines}"[:2900]}})
    blocks.append(
        {
            "type": "actions",
            "elements": [
                {"type": "button", "text": {"type": "plain_text", "text": "View incident"}, "url": facts["url"]}
            ],
        }
    )
    return {
        "text": f"{facts['page']}: {facts['name']} ({facts['label']})",  # the notification's plain text
        "attachments": [{"color": facts["colour"], "blocks": blocks}],
    }


def teams(facts: dict) -> dict:
    body = [
        {"type": "TextBlock", "text": facts["name"], "weight": "Bolder", "size": "Large", "wrap": True},
        {"type": "TextBlock", "text": f"{facts['label']} · {facts['page']}: {facts['status']}", "isSubtle": True,
         "wrap": True, "color": "Attention" if facts["colour"] != INDICATOR_COLOURS["none"] else "Good"},
        {"type": "TextBlock", "text": to_markup(facts["body"], "teams"), "wrap": True},
    ]  # fmt: skip
    if facts["components"]:
        body.append({"type": "FactSet", "facts": [{"title": n, "value": s} for n, s in facts["components"]]})
    card = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": body,
        "actions": [{"type": "Action.OpenUrl", "title": "View incident", "url": facts["url"]}],
        "msteams": {"width": "Full"},
    }
    return {
        "type": "message",
        "attachments": [
            {"contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": None, "content": card}
        ],
    }


def discord(facts: dict) -> dict:
    embed = {
        "title": f"{facts['name']}: {facts['label']}"[:256],
        "url": facts["url"],
        "description": to_markup(facts["body"], "discord"),
        "color": int(facts["colour"][1:], 16),
        "fields": [{"name": n[:256], "value": s, "inline": True} for n, s in facts["components"][:25]],
        "footer": {"text": f"{facts['page']}: {facts['status']}"[:2048]},
    }
    return {"embeds": [embed], "allowed_mentions": {"parse": []}}


BUILDERS = {"slack": slack, "teams": teams, "discord": discord}


def message(app: str, notification) -> dict:
    return BUILDERS[app](_facts(notification))
