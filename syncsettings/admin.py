"""Sync settings in the support admin, and the org blocklist support staff keep."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest

from accounts.requests import signed_in_user
from syncsettings.blocklists import ORG_BLOCKLIST_MAX_ENTRIES
from syncsettings.models import OrgBlocklistEntry, SyncSettings

SETTINGS_FIELDS = (
    "contacts_down_enabled",
    "tasks_down_enabled",
    "events_down_enabled",
    "contact_scope",
    "contact_view_id",
    "contact_view_name",
    "auto_remove_contacts",
    "auto_remove_tasks",
    "email_auto_save",
    "create_leads_for_unknown",
    "blocklist",
    "free_mail_unblocked",
    "time_zone",
)


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

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Rows are made per user by SyncSettings.for_user(); adding by hand makes no sense.
        return False


class OrgBlocklistEntryForm(forms.ModelForm):
    class Meta:
        model = OrgBlocklistEntry
        fields = ["value", "note"]

    def clean(self) -> dict[str, Any] | None:
        cleaned = super().clean()
        at_limit = OrgBlocklistEntry.objects.count() >= ORG_BLOCKLIST_MAX_ENTRIES
        if self.instance.pk is None and at_limit:
            raise forms.ValidationError(
                f"The org blocklist already has {ORG_BLOCKLIST_MAX_ENTRIES:,} entries, the most"
                " it takes. Remove entries, or block a whole domain instead of its addresses."
            )
        return cleaned


@admin.register(OrgBlocklistEntry)
class OrgBlocklistEntryAdmin(admin.ModelAdmin):
    """Entries are validated by the logger's parse_entry (OrgBlocklistEntry.clean) and
    stored normalized, so "@Acme.com" is refused as a duplicate of "acme.com"."""

    form = OrgBlocklistEntryForm
    list_display = ["value", "kind", "note", "created_by", "created_at"]
    list_filter = ["kind"]
    search_fields = ["value", "note"]
    fields = ["value", "note", "kind", "created_by", "created_at"]
    readonly_fields = ["kind", "created_by", "created_at"]

    def save_model(
        self, request: HttpRequest, obj: OrgBlocklistEntry, form: Any, change: bool
    ) -> None:
        if not change:
            obj.created_by = signed_in_user(request)
        super().save_model(request, obj, form, change)
