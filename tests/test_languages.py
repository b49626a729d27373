"""The public site in its readers' languages: addresses per language, complete catalogues, golden pages and emails.

The catalogues are compiled by the build (the Makefile's locale/.compiled); these tests read the .mo files.
"""

import re
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest
import time_machine
from bs4 import BeautifulSoup
from django.conf import settings
from django.core.management import call_command
from django.test import Client
from django.utils import translation

from incidents import presentation, services
from incidents.choices import ComponentStatus as S
from incidents.choices import IncidentStatus as I
from incidents.management.demo_data import CHIRPDESK, load_demo
from incidents.models import Incident, Page
from notifications.models import Subscriber
from statuspage.translations import MAKEMESSAGES_OPTIONS
from tests.conftest import skip_or_fail
from tests.notify_helpers import confirmed, html_part, text_part

ROOT = Path(settings.BASE_DIR)
NOW = datetime(2025, 6, 14, 12, 0, tzinfo=UTC)
PUBLIC_TEMPLATES = sorted(
    [*ROOT.glob("templates/status/*"), *ROOT.glob("templates/notifications/*"), *ROOT.glob("templates/[45]0[04].html")]
)


def test_the_committed_mo_files_are_what_the_po_files_compile_to(tmp_path):
    """The .mo files are committed (Python and make suffice to run the site): none may lag behind its .po."""
    if not shutil.which("msgfmt"):
        skip_or_fail("needs GNU gettext's msgfmt to compile the catalogues")
    stale = []
    for po in sorted(ROOT.glob("locale/*/LC_MESSAGES/django.po")):
        fresh = tmp_path / f"{po.parent.parent.name}.mo"
        subprocess.run(["msgfmt", "--check-format", "-o", str(fresh), str(po)], check=True)
        if not po.with_suffix(".mo").exists() or po.with_suffix(".mo").read_bytes() != fresh.read_bytes():
            stale.append(po.parent.parent.name)
    assert not stale, f"compile the translations (make locale/.compiled) and commit the .mo files: {stale}"


@pytest.fixture
def demo(db):
    with time_machine.travel(NOW, tick=False):
        load_demo()
        yield Page.objects.get(code=CHIRPDESK)


def soup(response):
    assert response.status_code == 200, response.status_code
    return BeautifulSoup(response.content, "html.parser")


def text(node) -> str:
    return " ".join(node.get_text(" ").split())


# -- every string in every language ------------------------------------------------------------------------------


def catalogue(path: Path) -> dict[tuple, dict]:
    """A .po file (written with --no-wrap) as {(context, msgid): {"str": [msgstr…], "fuzzy": bool}}."""
    entries, current = {}, {}
    for line in [*path.read_text(encoding="utf-8").splitlines(), ""]:
        if not line.strip():
            if "msgid" in current and current["msgid"]:
                key = (current.get("msgctxt"), current["msgid"])
                entries[key] = {"str": current.get("msgstr", []), "fuzzy": current.get("fuzzy", False)}
            current = {}
        elif line.startswith("#,"):
            current["fuzzy"] = "fuzzy" in line
        elif not line.startswith("#"):
            name, _, value = line.partition(" ")
            value = value[1:-1]
            if name.startswith("msgstr"):
                current.setdefault("msgstr", []).append(value)
            else:
                current[name] = value
    return entries


def test_makemessages_finds_nothing_new_and_every_language_has_every_message(tmp_path, monkeypatch):
    for name in ("templates", "incidents", "notifications", "accounts", "api", "statuspage", "locale"):
        shutil.copytree(ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__", "*.mo"))
    monkeypatch.chdir(tmp_path)
    call_command("makemessages", verbosity=0, **MAKEMESSAGES_OPTIONS)
    for locale in MAKEMESSAGES_OPTIONS["locale"]:
        committed = catalogue(ROOT / f"locale/{locale}/LC_MESSAGES/django.po")
        found = catalogue(tmp_path / f"locale/{locale}/LC_MESSAGES/django.po")
        assert set(found) == set(committed), f"{locale}: run make messages and translate: {set(found) ^ set(committed)}"
        untranslated = [key for key, entry in found.items() if entry["fuzzy"] or not all(entry["str"])]
        assert not untranslated, f"{locale} misses: {untranslated}"
        assert len(found) > 200


class _Words(HTMLParser):
    """Text and human-read attributes left in a template once its tags, variables and translations are gone."""

    SHOWN = ("alt", "title", "placeholder", "aria-label", "label")

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self.skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("style", "script", "svg"):
            self.skip += 1
        for name, value in attrs:
            if name in self.SHOWN and re.search(r"[A-Za-z]{2}", value or "") and "://" not in value:
                self.found.append(f"{tag}[{name}]={value!r}")

    def handle_endtag(self, tag):
        if tag in ("style", "script", "svg"):
            self.skip = max(self.skip - 1, 0)

    def handle_data(self, data):
        if not self.skip and re.search(r"[A-Za-z]{2}", data):
            self.found.append(data.strip())


TEMPLATE_CODE = [
    r"\{% comment %\}.*?\{% endcomment %\}",
    r"\{% blocktranslate.*?\{% endblocktranslate %\}",
    r"\{#.*?#\}",
    r"\{%.*?%\}",
    r"\{\{.*?\}\}",
]
NOT_WORDS = {"API", "Statuspage"}  # a name, the same in every language


@pytest.mark.parametrize("template", PUBLIC_TEMPLATES, ids=lambda path: path.name)
def test_a_public_template_has_no_text_outside_the_translation_tags(template):
    source = template.read_text()
    for pattern in TEMPLATE_CODE:
        source = re.sub(pattern, " ", source, flags=re.S)
    parser = _Words()
    parser.feed(source)
    assert [words for words in parser.found if words not in NOT_WORDS] == []


def test_the_checks_above_would_see_an_untranslated_word():
    parser = _Words()
    parser.feed('<p>Posted <span title="When">at</span> <input placeholder="https://example.com/x"></p>')
    assert parser.found == ["Posted", "span[title]='When'", "at"]


# -- addresses: each language its own URL, the page's default without a code ------------------------------------


def test_each_language_lives_at_its_own_address_and_the_default_one_also_without_a_code(client, demo):
    english = soup(client.get("/"))
    assert english.html["lang"] == "en"
    assert text(english.select_one("nav[aria-label]")).startswith("Current status History Uptime")
    french = soup(client.get("/fr/"))
    assert french.html["lang"] == "fr"
    assert text(french.select_one(".site nav")) == "État actuel Historique Disponibilité"
    assert french.select_one(".site nav a")["href"] == "/fr/"  # links keep the language
    assert french.find("a", string="Historique")["href"] == "/fr/history"
    assert soup(client.get(f"/de/p/{CHIRPDESK}/history")).h1.get_text() == "Störungsverlauf"
    assert client.get("/xx/").status_code == 404
    # The switcher: every language of this very address, the current one not a link.
    switcher = french.select_one("nav.languages")
    assert [(a["hreflang"], a["href"]) for a in switcher.select("a")] == [
        ("en", "/"), ("de", "/de/"), ("es", "/es/"), ("pt-br", "/pt-br/"),
    ]  # fmt: skip
    assert switcher.strong.get_text() == "Français"


def test_a_page_whose_default_is_french_is_french_without_a_code_and_english_under_en(client, demo):
    services_page_update(demo, default_language="fr")
    assert soup(client.get("/")).html["lang"] == "fr"
    assert soup(client.get("/en/")).html["lang"] == "en"
    switcher = soup(client.get("/en/history")).select_one("nav.languages")
    assert switcher.find("a", hreflang="fr")["href"] == "/history"


def test_the_default_language_is_set_in_the_manage_api_and_the_admin(admin_api, page, client, django_user_model):
    response = admin_api.client.patch(
        f"/api/v1/pages/{page.code}", {"page": {"default_language": "es"}}, content_type="application/json",
        headers=admin_api.headers(),
    )  # fmt: skip
    assert response.status_code == 200, response.content
    assert response.json()["default_language"] == "es"
    bad = admin_api.client.patch(
        f"/api/v1/pages/{page.code}", {"page": {"default_language": "xx"}}, content_type="application/json",
        headers=admin_api.headers(),
    )  # fmt: skip
    assert bad.status_code in (400, 422)
    assert "default_language" in bad.content.decode()
    page.refresh_from_db()
    assert page.default_language == "es"
    assert soup(client.get("/")).html["lang"] == "es"

    client.force_login(django_user_model.objects.create_superuser("root", "root@example.com", "pw"))
    form = soup(client.get(f"/admin/incidents/page/{page.pk}/change/"))
    assert form.select_one("select[name=default_language] option[selected]")["value"] == "es"
    data = {"name": page.name, "time_zone": "UTC", "accent_colour": "#1f5fbf", "default_language": "pt-br"}
    assert client.post(f"/admin/incidents/page/{page.pk}/change/", data).status_code == 302
    page.refresh_from_db()
    assert page.default_language == "pt-br"


def services_page_update(page, **fields):
    from incidents.page_services import page_update

    return page_update(page=page, **fields)


def test_every_language_is_its_own_cached_response(client, demo):
    first_en, first_fr = client.get("/"), client.get("/fr/")
    assert first_en["ETag"] != first_fr["ETag"]
    again = client.get("/fr/", HTTP_IF_NONE_MATCH=first_fr["ETag"])
    assert again.status_code == 304
    assert b"Current status" in client.get("/").content  # the French render did not leak into English
    assert first_fr["Vary"] == "Accept-Encoding"  # no cookie, no Accept-Language: the address alone decides


def test_a_missing_address_under_a_language_says_so_in_it(client, demo):
    response = client.get("/es/incidents/nothing000000")
    assert response.status_code == 404
    assert "Página no encontrada" in response.content.decode()


# -- golden pages -------------------------------------------------------------------------------------------------


def test_the_french_incident_page(client, demo):
    incident = Incident.objects.get(page=demo, name="WhatsApp replies delayed")
    html = soup(client.get(f"/fr/incidents/{incident.code}"))
    assert text(html.select_one(".incident-header")).startswith(
        "WhatsApp replies delayed Rapport d’incident pour Chirpdesk"
    )
    assert text(html.select_one(".summary")) == (
        "Chirpdesk a subi un incident mineur le 6 juin 2025 touchant Channel - WhatsApp, d’une durée de 3 h 20 min."
    )
    labels = [text(h) for h in html.select(".timeline .update-label")]
    assert labels[:4] == ["Post-mortem", "Résolu", "Surveillance", "Mise à jour"]
    assert labels[-1] == "Analyse en cours"
    assert text(html.select(".timeline .posted")[-1]) == "Publié le 6 juin 2025 - 17:41 UTC"
    assert text(html.select_one(".affected")) == "Cet incident a touché : Channels (Channel - WhatsApp)."
    assert html.title.get_text() == "WhatsApp replies delayed · État de Chirpdesk"


def test_the_french_home_page(client, demo):
    with time_machine.travel(NOW, tick=False):
        services.incident_create(
            page=demo, name="Slow inbox", body="We are looking into it.",
            components={demo.components.get(name="Inbox"): S.PARTIAL_OUTAGE},
        )  # fmt: skip
        html = soup(client.get("/fr/"))
    assert text(html.select_one(".banner-text")) == "Panne partielle du système"
    card = html.select_one(".incident-card")
    assert text(card.select_one(".incident-card-meta")) == "Impact : majeur · Analyse en cours"
    assert text(card.select_one(".posted")) == "Publié le 14 juin 2025 - 12:00 UTC"
    assert [text(h) for h in html.select(".past .day-title")][:2] == ["14 juin 2025", "13 juin 2025"]
    assert text(html.select_one("#past-title")) == "Incidents passés"
    assert html.select_one(".subscribe button").get_text() == "S’abonner"
    assert html.select_one(".subscribe form")["action"] == "/fr/subscribe"


def test_plural_forms_follow_each_language(client, demo):
    def listed(name):
        row = soup(client.get("/fr/history")).find("a", string=name).find_parent("li")
        return text(row.select_one(".posted")).rsplit(" · ", 1)[-1]

    incident = services.incident_create(page=demo, name="Slow exports", body="Looking.")
    assert listed("Slow exports") == "1 mise à jour"
    services.incident_post_update(incident=incident, status=I.RESOLVED, body="Fixed.")
    assert listed("Slow exports") == "2 mises à jour"
    with translation.override("fr"):
        assert _count_words(0) == "0 mise à jour"  # French counts 0 as singular
    with translation.override("de"):
        assert _count_words(0) == "0 Updates"
        assert _count_words(1) == "1 Update"
        assert presentation.format_duration(timedelta(seconds=20)) == "weniger als eine Minute"
        assert presentation.format_duration(timedelta(hours=3, minutes=20)) == "3 Std. 20 Min."


def _count_words(count: int) -> str:
    from django.template import Context, Template

    template = Template(
        "{% load i18n %}{% blocktranslate count counter=n %}{{ counter }} update{% plural %}{{ counter }} updates"
        "{% endblocktranslate %}"
    )
    return template.render(Context({"n": count}))


@pytest.mark.parametrize(
    ("language", "posted", "month"),
    [
        ("en", "Jun 6, 2025 - 21:01 UTC", "June 2025"),
        ("fr", "6 juin 2025 - 21:01 UTC", "juin 2025"),
        ("de", "6. Juni 2025 - 21:01 UTC", "Juni 2025"),
        ("es", "6 de junio de 2025 - 21:01 UTC", "junio de 2025"),
        ("pt-br", "6 de Junho de 2025 - 21:01 UTC", "Junho de 2025"),
    ],
)
def test_dates_and_times_in_each_locales_format(language, posted, month):
    at = datetime(2025, 6, 6, 21, 1, tzinfo=UTC)
    with translation.override(language):
        assert presentation.format_posted(at, presentation.ZoneInfo("UTC")) == posted
        assert presentation.format_month(at.date()) == month
        assert presentation.format_percent("99.98") == ("99.98" if language == "en" else "99,98")


# -- subscribers and their emails ---------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_subscriber_who_subscribed_in_german_gets_german_emails(smtp, page, make_component):
    api = make_component("API")
    client = Client()
    client.post("/de/subscribe", {"email": "anna@example.com"})
    (confirmation,) = smtp.wait_for(1)
    assert Subscriber.objects.get(email="anna@example.com").language == "de"
    assert confirmation["Subject"] == "[Acme Cloud] Bestätigen Sie Ihr Abonnement"
    assert "Bitte bestätigen Sie Ihr Abonnement der Status-Updates von Acme Cloud." in text_part(confirmation)
    confirm = re.search(r"http://127\.0\.0\.1:8000(/subscriptions/confirm/\S+)", text_part(confirmation)).group(1)
    assert "Bestätigen Sie Ihr Abonnement" in client.get(confirm).content.decode()  # the link page speaks it too
    client.post(confirm)
    smtp.messages.clear()
    confirmed(page, "bob@example.com")  # subscribed without a language: the page's default

    with time_machine.travel(datetime(2026, 11, 27, 21, 1, tzinfo=UTC), tick=False):
        services.incident_create(page=page, name="Errors", body="Looking.", components={api: S.MAJOR_OUTAGE})
    messages = {m["To"]: m for m in smtp.wait_for(2)}
    german, english = messages["anna@example.com"], messages["bob@example.com"]
    assert german["Subject"] == "[Acme Cloud] Errors: Wird untersucht"
    lines = text_part(german).splitlines()
    assert lines[:3] == ["Acme Cloud: Errors", "", "Wird untersucht - 27. November 2026 - 21:01 UTC"]
    assert "Betroffene Komponenten:" in lines
    assert "- API: Schwerer Ausfall" in lines
    assert any(line.startswith("Störung ansehen: http://127.0.0.1:8000/de/incidents/") for line in lines)
    assert "Sie erhalten diese Nachricht, weil Sie alle Status-Updates von Acme Cloud abonniert haben." in lines
    assert any(line.startswith("Abonnement verwalten: http") for line in lines)
    assert 'lang="de"' in html_part(german)
    assert english["Subject"] == "[Acme Cloud] Errors: Investigating"
    assert "View the incident: http://127.0.0.1:8000/incidents/" in text_part(english)
