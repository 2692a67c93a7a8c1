from django.urls import path

from syncsettings import views

app_name = "syncsettings"

urlpatterns = [
    path("filters/", views.filters, name="filters"),
    path("detailed/", views.detailed, name="detailed"),
    path("progress/", views.sync_progress, name="progress"),
]
