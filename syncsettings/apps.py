from django.apps import AppConfig


class SyncSettingsConfig(AppConfig):
    name = "syncsettings"
