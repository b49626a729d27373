"""The page's admin screen: snippets to copy for the badges, the widget and the embed, with live previews."""

from bs4 import BeautifulSoup
from django.urls import reverse


def test_the_page_screen_shows_snippets_with_previews_of_the_real_addresses(
    client, page, make_component, page_admin, settings
):
    api = make_component("API")
    client.force_login(page_admin)
    html = BeautifulSoup(client.get(reverse("admin:incidents_page_change", args=[page.pk])).content, "html.parser")
    panel = html.select_one(".page-snippets")
    site = settings.SITE_URL.rstrip("/")
    snippets = {area["id"]: area.get_text() for area in panel.select("textarea")}
    assert snippets["snippet-status-md"] == f"[![Acme Cloud status]({site}/badge.svg)]({site}/)"
    assert (
        snippets["snippet-uptime-90-html"]
        == f'<a href="{site}/"><img src="{site}/badge/uptime-90.svg" alt="Acme Cloud status"></a>'
    )
    assert snippets[f"snippet-c-{api.code}-md"] == f"[![API status]({site}/components/{api.code}/badge.svg)]({site}/)"
    assert snippets["snippet-shields"].endswith("url=" + f"{site}/badge.json".replace(":", "%3A").replace("/", "%2F"))
    assert snippets["snippet-widget"] == f'<script src="{site}/widget.js" async data-position="bottom-right"></script>'
    assert f'src="{site}/embed"' in snippets["snippet-embed"]
    # the previews are the real addresses, answered by the public site
    previews = [img["src"] for img in panel.select("img")] + [panel.select_one("iframe")["src"]]
    assert f"/components/{api.code}/badge.svg" in previews
    assert "/embed" in previews
    client.logout()
    for src in previews:
        response = client.get(src)
        assert response.status_code == 200, src
        assert response["Content-Type"].split(";")[0] in ("image/svg+xml", "text/html"), src
