from django.contrib import admin
from django.urls import include, path

from config.health import healthz, readyz
from config.metrics import metrics
from syncsettings.views import dashboard

admin.site.site_header = "Relay support"
admin.site.site_title = "Relay support"

handler400 = "config.errors.handler400"

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    path("metrics", metrics, name="metrics"),
    path("", dashboard, name="dashboard"),
    path("settings/", include("syncsettings.urls")),
    path("contact/", include("accounts.contact.urls")),
    path("sync/", include("syncengine.urls")),
    path("", include("accounts.oauth.urls")),
    path("", include("accounts.exchange_views")),
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
]
