from django.contrib import admin

from syncsettings.models import SyncSettings

SETTINGS_FIELDS = [
    "contacts_down_enabled",
    "tasks_down_enabled",
    "events_down_enabled",
    "contact_scope",
    "contact_view_id",
    "contact_view_name",
    "auto_remove_contacts",
    "auto_remove_tasks",
    "email_auto_save",
    "blocklist",
    "time_zone",
]


class SyncSettingsInline(admin.StackedInline):
    """Shown on the user's admin page; the row is created before the page renders."""

    model = SyncSettings
    fields = SETTINGS_FIELDS
    can_delete = False
    max_num = 1
    min_num = 0
    extra = 0


@admin.register(SyncSettings)
class SyncSettingsAdmin(admin.ModelAdmin):
    list_display = ["user", "contact_scope", "tasks_down_enabled", "updated_at"]
    list_filter = ["contact_scope", "contacts_down_enabled", "tasks_down_enabled"]
    search_fields = ["user__email", "user__username"]
    fields = ["user", *SETTINGS_FIELDS, "updated_at"]
    readonly_fields = ["user", "updated_at"]

    def has_add_permission(self, request, obj=None) -> bool:  # type: ignore[no-untyped-def]
        # Rows are made per user by SyncSettings.for_user(); adding by hand makes no sense.
        return False
