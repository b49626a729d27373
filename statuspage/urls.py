from django.contrib import admin
from django.urls import include, path

from incidents.urls import localized_paths, page_patterns
from incidents.views import favicon
from notifications.urls import localized_paths as subscribe_paths

admin.site.site_header = "Status page administration"
admin.site.site_title = "Status page admin"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("favicon.ico", favicon, name="favicon"),
    path("", include("api.urls")),
    path("", include("notifications.urls")),
    path("", include("incidents.urls")),
    # Every page in every language: /fr/, /fr/p/<page id>/, /fr/incidents/<code> (incidents/languages.py).
    path("<lang:lang>/", include(page_patterns(localized_paths + subscribe_paths))),
]

handler404 = "incidents.views.page_not_found"
handler500 = "incidents.views.server_error"
