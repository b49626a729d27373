from django.contrib import admin
from django.urls import include, path

admin.site.site_header = "Status page administration"
admin.site.site_title = "Status page admin"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("api.urls")),
    path("", include("notifications.urls")),
    path("", include("incidents.urls")),
]
