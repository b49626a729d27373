from django.urls import include, path

from notifications import views

links = [
    path("confirm/<str:token>", views.confirm, name="confirm"),
    path("manage/<str:token>", views.manage, name="manage"),
    path("unsubscribe/<str:token>", views.unsubscribe, name="unsubscribe"),
]

# "subscribe" follows the public paths: at / for the default page and under /p/<page id>/ for every page, and in
# every language under /<lang>/ (statuspage/urls.py).
localized_paths = [("subscribe", views.subscribe, "subscribe")]

urlpatterns = [
    path("subscribe", views.subscribe, name="subscribe"),
    path("p/<slug:page_code>/subscribe", views.subscribe, name="page-subscribe"),
    path("subscriptions/", include((links, "notifications"))),
]
