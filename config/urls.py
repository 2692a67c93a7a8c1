from django.contrib import admin
from django.urls import include, path

from syncsettings.views import dashboard

admin.site.site_header = "Relay support"
admin.site.site_title = "Relay support"

urlpatterns = [
    path("", dashboard, name="dashboard"),
    path("settings/", include("syncsettings.urls")),
    path("contact/", include("accounts.contact.urls")),
    path("sync/", include("syncengine.urls")),
    path("", include("accounts.oauth.urls")),
    path("", include("accounts.exchange_views")),
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
]
