from django.contrib import admin
from django.urls import include, path

from incidents.views import favicon

admin.site.site_header = "Status page administration"
admin.site.site_title = "Status page admin"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("favicon.ico", favicon, name="favicon"),
    path("", include("api.urls")),
    path("", include("notifications.urls")),
    path("", include("incidents.urls")),
]

handler404 = "incidents.views.page_not_found"
handler500 = "incidents.views.server_error"
