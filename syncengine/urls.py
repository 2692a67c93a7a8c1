from django.urls import path

from . import views

app_name = "syncengine"

urlpatterns = [
    path("history/", views.history, name="history"),
    path("issues/", views.issues, name="issues"),
    path("sync-now/", views.sync_now, name="sync_now"),
    path("held-deletions/", views.resolve_held_deletions, name="held_deletions"),
    path("items/", views.items, name="items"),
    path("history/<int:pk>/", views.session_detail, name="session"),
]
