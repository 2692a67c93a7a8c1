from django.urls import path

from . import views

app_name = "oauth"

urlpatterns = [
    path("connect/<str:provider>/", views.connect_start, name="start"),
    path("connect/<str:provider>/callback/", views.connect_callback, name="callback"),
    path("connections/<int:connection_id>/disconnect/", views.disconnect, name="disconnect"),
]
