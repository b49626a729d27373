from django.urls import path, register_converter

from incidents import access_views, embed_views, feeds, theme, views
from incidents.badge_views import badge_paths
from incidents.languages import LOCALIZED, LanguageConverter

register_converter(LanguageConverter, "lang")

# The same public paths serve the default page at / and every page under /p/<page id>/.
public_paths = [
    ("", views.home, "home"),
    ("incidents/<slug:code>", views.incident_detail, "incident"),
    ("history", views.history, "history"),
    # Older history pages as paths (also ?page=N): a static copy of the site can hold them as files.
    ("history/page/<int:number>", views.history, "history-page"),
    ("logo", views.logo, "logo"),
    ("accent.css", theme.accent_css, "accent"),
    ("uptime", views.uptime, "uptime"),
    ("maintenance.ics", views.maintenance_calendar, "maintenance-ics"),
    ("history.atom", feeds.history_atom, "history-atom"),
    ("history.rss", feeds.history_rss, "history-rss"),
    ("widget.js", embed_views.widget_js, "widget"),
    ("embed", embed_views.embed, "embed"),
    *badge_paths,  # badge.svg, components/<id>/badge.json, badge/uptime-30.svg, … (incidents/badge_views.py)
]

# Signing in to a non-public page (incidents/access.py): not public views, never cached or published.
access_paths = [
    ("access/password", access_views.password_sign_in, "access-password"),
    ("access/email", access_views.email_sign_in, "access-email"),
    ("access/link/<str:token>", access_views.follow_link, "access-link"),
]


def page_patterns(paths):
    """Each path at / (the default page) and under /p/<page id>/ (every page)."""
    return [path(route, view, name=name) for route, view, name in paths] + [
        path(f"p/<slug:page_code>/{route}", view, name=f"page-{name}") for route, view, name in paths
    ]


# What has words in it is also served in every language, under /<lang>/ (statuspage/urls.py).
localized_paths = [entry for entry in public_paths + access_paths if entry[2] in LOCALIZED]

urlpatterns = page_patterns(public_paths + access_paths)
