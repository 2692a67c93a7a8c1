"""The support admin: users with their connections and sync settings.

Tokens are excluded from every form and list (and the field is not editable anyway), so
they cannot reach admin HTML. Support edits only a connection's status; see docs/support.md.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse

from accounts.contact.services import mark_handled
from accounts.models import Connection, SupportRequest, User
from accounts.requests import signed_in_user
from syncengine.admin import UserSupportActions
from syncengine.admin_desk import SupportDeskMixin
from syncsettings.admin import SyncSettingsInline
from syncsettings.models import SyncSettings

TOKEN_FIELDS = ["access_token", "refresh_token"]
CONNECTION_FIELDS = (
    "provider",
    "status",
    "external_address",
    "external_account_id",
    "instance_url",
    "token_expires_at",
    "last_error",
    "last_error_at",
    "extra",
    "created_at",
    "updated_at",
)
# Support may change the status (e.g. to "disconnected"); everything else is read-only.
CONNECTION_READONLY = [name for name in CONNECTION_FIELDS if name != "status"]


class ConnectionInline(admin.StackedInline):
    model = Connection
    fields = CONNECTION_FIELDS
    exclude = TOKEN_FIELDS
    readonly_fields = CONNECTION_READONLY
    can_delete = False
    extra = 0

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Connections come from the OAuth flow only.
        return False


@admin.register(Connection)
class ConnectionAdmin(admin.ModelAdmin):
    list_display = ["user", "provider", "status", "external_address", "last_error_at"]
    list_filter = ["status", "provider"]
    search_fields = ["user__email", "external_address"]
    fields = ["user", *CONNECTION_FIELDS]
    exclude = TOKEN_FIELDS
    readonly_fields = ["user", *CONNECTION_READONLY]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(User)
class UserAdmin(SupportDeskMixin, UserSupportActions, DjangoUserAdmin):
    inlines = [SyncSettingsInline, ConnectionInline]
    actions = UserSupportActions.support_actions
    list_display = ["email", "username", "is_staff", "is_active", "date_joined"]
    search_fields = ["email", "username", "first_name", "last_name"]
    ordering = ["email"]

    # What support sees of a user: no password hash, no groups or permissions to edit.
    support_fieldsets = [
        (None, {"fields": ["email", "username", "first_name", "last_name"]}),
        ("Status", {"fields": ["is_active", "is_staff", "last_login", "date_joined"]}),
    ]

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return super().get_fieldsets(request, obj)
        base = (
            super().get_fieldsets(request, obj)
            if request.user.is_superuser
            else self.support_fieldsets
        )
        return [self.desk_fieldset, *base]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        # Support holds auth.change_user only because Django saves a page's inlines through
        # the parent's change permission; the user's own fields stay superuser-only.
        if obj is None:
            return super().get_readonly_fields(request, obj)
        if request.user.is_superuser:
            return [*super().get_readonly_fields(request, obj), *self.desk_readonly]
        own = [name for _, options in self.support_fieldsets for name in options["fields"]]
        return [*own, *self.desk_readonly]

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        user = self.get_object(request, object_id)
        if user is not None and self.has_view_or_change_permission(request, user):
            # The settings inline edits an existing row; make sure there is one.
            SyncSettings.for_user(user)
        return super().change_view(request, object_id, form_url, extra_context)

    def user_change_password(
        self, request: HttpRequest, id: str, form_url: str = ""
    ) -> HttpResponse:
        if not request.user.is_superuser:
            raise PermissionDenied
        return super().user_change_password(request, id, form_url)


@admin.register(SupportRequest)
class SupportRequestAdmin(admin.ModelAdmin):
    """Requests are read, answered by email, then marked handled with the action; what the
    sender wrote is never edited, and each marking lands in the admin log."""

    list_display = ["created_at", "name", "email", "user", "handled", "handled_by", "handled_at"]
    list_filter = ["handled", "created_at"]
    search_fields = ["name", "email", "message"]
    date_hierarchy = "created_at"
    fields = readonly_fields = (
        "name",
        "email",
        "user",
        "message",
        "created_at",
        "client_ip_hash",
        "handled",
        "handled_by",
        "handled_at",
    )
    actions = ["mark_handled"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description="Mark selected requests handled", permissions=["change"])
    def mark_handled(self, request: HttpRequest, queryset: QuerySet[SupportRequest]) -> None:
        marked = 0
        for support_request in queryset.filter(handled=False):
            if mark_handled(support_request, by=signed_in_user(request)):
                self.log_change(request, support_request, "Marked handled.")
                marked += 1
        self.message_user(
            request,
            f"{marked} request(s) marked handled.",
            messages.SUCCESS if marked else messages.WARNING,
        )


from . import exchange_admin  # noqa: E402, F401  (the Exchange server settings)
