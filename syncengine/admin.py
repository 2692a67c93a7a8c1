"""The support desk (SPEC §1): sessions, log entries, links and sync states, read-only
except a user's pause switch; the support actions call syncengine.support and are written
to Django's admin log. Rights: the Support group (syncengine/migrations/0004), see
docs/support.md. Nothing here holds a token: these models have none."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import Any, Protocol, TypeVar

from django.contrib import admin, messages
from django.contrib.admin.models import CHANGE, LogEntry
from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from accounts.models import User
from accounts.requests import signed_in_user

from . import support
from .models import ItemLedgerEntry, SyncLink, SyncLogEntry, SyncSession, UserSyncState

_M = TypeVar("_M", bound=Model)

SUPPORT_PERMISSION = "syncengine.run_support_actions"


class SupportActionsMixin:
    """`@admin.action(permissions=["support"])` asks this."""

    def has_support_permission(self, request: HttpRequest) -> bool:
        return request.user.is_active and request.user.has_perm(SUPPORT_PERMISSION)


def log_user_change(request: HttpRequest, user: User, message: str) -> None:
    """A line in the user's admin history written from another model's admin page (what
    ModelAdmin.log_change writes, for an object that is not this admin's model)."""
    LogEntry.objects.log_actions(
        user_id=signed_in_user(request).pk,
        queryset=[user],
        action_flag=CHANGE,
        change_message=message,
        single_object=True,
    )


def csv_response(filename: str, header: list[str], rows: Iterable[Iterable[Any]]) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    stamp = timezone.now().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="{filename}-{stamp}.csv"'
    writer = csv.writer(response)
    writer.writerow(header)
    for row in rows:
        writer.writerow(["" if value is None else _cell(value) for value in row])
    return response


def _cell(value: Any) -> str:
    text = value.isoformat() if hasattr(value, "isoformat") else str(value)
    # A cell a spreadsheet would run as a formula is quoted (CSV injection).
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


class ReadOnlyAdmin(admin.ModelAdmin[_M]):
    """The engine writes these rows; people only read them."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class OfUser(Protocol):
    """A row that belongs to one user (sessions, log entries, links, ledger rows)."""

    @property
    def user(self) -> User: ...


@admin.display(description="user", ordering="user__email")
def user_email(obj: OfUser) -> str:
    return obj.user.email or obj.user.get_username()


class SyncLogEntryInline(admin.TabularInline[SyncLogEntry, SyncSession]):
    model = SyncLogEntry
    fields = readonly_fields = (
        "created_at",
        "kind",
        "item_type",
        "side",
        "sf_id",
        "mailbox_id",
        "message",
    )
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(SyncSession)
class SyncSessionAdmin(ReadOnlyAdmin[SyncSession]):
    inlines = [SyncLogEntryInline]
    readonly_fields = ["counters_table"]
    exclude = ["counters", "progress"]
    list_display = [
        "started_at",
        user_email,
        "trigger",
        "status",
        "finished_at",
        "api_calls_salesforce",
        "api_calls_mailbox",
        "changed",
        "error",
    ]
    list_filter = ["status", "trigger", "changed", "started_at"]
    search_fields = ["user__email", "error"]
    date_hierarchy = "started_at"
    list_select_related = ["user"]
    actions = ["export_csv"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = [f.name for f in self.model._meta.fields if f.name not in self.exclude]
        return ["counters_table", *fields]

    @admin.display(description="Counters")
    def counters_table(self, obj: SyncSession) -> str:
        from django.utils.html import format_html, format_html_join
        from django.utils.safestring import mark_safe

        from .executor import COUNTER_KEYS

        rows = []
        for item_type, directions in sorted((obj.counters or {}).items()):
            if item_type.startswith("_") or not isinstance(directions, dict):
                continue
            for direction, counts in sorted(directions.items()):
                rows.append((item_type, direction, *(counts.get(k, 0) for k in COUNTER_KEYS)))
        head = format_html_join("", '<th scope="col">{}</th>', ((k,) for k in COUNTER_KEYS))
        cells = "".join(["<td>{}</td>"] * (len(COUNTER_KEYS) + 2))
        body = format_html_join("", "<tr>" + cells + "</tr>", rows)
        return format_html(
            '<table id="session-counters"><caption>Per type and direction</caption><thead>'
            '<tr><th scope="col">type</th><th scope="col">direction</th>{}</tr></thead>'
            "<tbody>{}</tbody></table>",
            head,
            body or mark_safe('<tr><td colspan="9">No counters.</td></tr>'),
        )

    @admin.action(description="Export selected sessions as CSV", permissions=["view"])
    def export_csv(self, request: HttpRequest, queryset: QuerySet[SyncSession]) -> HttpResponse:
        header = [
            "id", "user", "trigger", "status", "started_at", "finished_at", "changed",
            "api_calls_salesforce", "api_calls_mailbox", "error", "counters",
        ]  # fmt: skip
        rows = (
            [
                s.pk,
                s.user.email,
                s.trigger,
                s.status,
                s.started_at,
                s.finished_at,
                s.changed,
                s.api_calls_salesforce,
                s.api_calls_mailbox,
                s.error,
                s.counters,
            ]
            for s in queryset.select_related("user").order_by("-started_at")
        )
        return csv_response("sync-sessions", header, rows)


@admin.register(SyncLogEntry)
class SyncLogEntryAdmin(ReadOnlyAdmin[SyncLogEntry]):
    list_display = ["created_at", user_email, "kind", "item_type", "side", "sf_id", "message"]
    list_filter = ["kind", "item_type", "side", "created_at"]
    search_fields = ["user__email", "sf_id", "mailbox_id", "message"]
    date_hierarchy = "created_at"
    list_select_related = ["user"]
    actions = ["export_csv"]

    @admin.action(description="Export selected log entries as CSV", permissions=["view"])
    def export_csv(self, request: HttpRequest, queryset: QuerySet[SyncLogEntry]) -> HttpResponse:
        header = [
            "id", "session", "user", "created_at", "kind", "item_type", "side", "sf_id",
            "mailbox_id", "message",
        ]  # fmt: skip
        rows = (
            [
                e.pk,
                e.session_id,
                e.user.email,
                e.created_at,
                e.kind,
                e.item_type,
                e.side,
                e.sf_id,
                e.mailbox_id,
                e.message,
            ]
            for e in queryset.select_related("user").order_by("-created_at")
        )
        return csv_response("sync-log", header, rows)


class HasErrorsFilter(admin.SimpleListFilter):
    title = "errors"
    parameter_name = "errors"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("yes", "Failing (error count > 0)")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[SyncLink]) -> QuerySet[SyncLink]:
        return queryset.filter(error_count__gt=0) if self.value() == "yes" else queryset


@admin.register(SyncLink)
class SyncLinkAdmin(SupportActionsMixin, ReadOnlyAdmin[SyncLink]):
    """Synced pairs; filter State = "Deletion waiting for confirmation" for held deletions."""

    list_display = [
        user_email, "item_type", "state", "held_side", "sf_id", "mailbox_id", "error_count",
        "last_error", "last_synced_at",
    ]  # fmt: skip
    list_filter = ["state", "item_type", HasErrorsFilter]
    search_fields = ["user__email", "sf_id", "mailbox_id"]
    list_select_related = ["user"]
    exclude = ["sf_facts"]
    actions = ["confirm_held_deletions", "discard_held_deletions"]

    @admin.action(
        description="Confirm held deletions (of the selected rows' users and types)",
        permissions=["support"],
    )
    def confirm_held_deletions(self, request: HttpRequest, queryset: QuerySet[SyncLink]) -> None:
        self._resolve(request, queryset, "confirm")

    @admin.action(
        description="Discard held deletions, keep both sides (selected rows' users and types)",
        permissions=["support"],
    )
    def discard_held_deletions(self, request: HttpRequest, queryset: QuerySet[SyncLink]) -> None:
        self._resolve(request, queryset, "discard")

    def _resolve(self, request: HttpRequest, queryset: QuerySet[SyncLink], decision: str) -> None:
        # The engine resolves a held batch per user and item type, as the user's History
        # page does: a brake held the batch together.
        groups = sorted(
            set(
                queryset.filter(state=SyncLink.State.HELD_DELETION).values_list(
                    "user_id", "item_type"
                )
            )
        )
        if not groups:
            self.message_user(request, "None of the selected rows is held.", messages.WARNING)
            return
        users = {u.pk: u for u in _users({user_id for user_id, _ in groups})}
        verb = "Confirmed" if decision == "confirm" else "Discarded"
        total = 0
        busy: set[str] = set()
        for user_id, item_type in groups:
            user = users[user_id]
            result = support.do_resolve_held(user, decision, item_type)
            total += result.count
            if result.busy:
                busy.add(str(user))
            log_user_change(
                request, user, f"{verb} {result.count} held deletion(s) of {item_type}."
            )
        self.message_user(
            request,
            f"{verb} {total} held deletion(s): a sync session carries it out.",
            messages.SUCCESS,
        )
        if busy:
            self.message_user(
                request,
                "A sync session is running for "
                + ", ".join(sorted(busy))
                + ": the decision is carried out when it ends.",
                messages.WARNING,
            )


def _users(ids: set[int]) -> QuerySet[User]:
    return User.objects.filter(pk__in=ids)


@admin.register(UserSyncState)
class UserSyncStateAdmin(ReadOnlyAdmin[UserSyncState]):
    list_display = [
        user_email, "paused", "pause_reason", "consecutive_failures", "next_due_at", "idle_streak",
        "problem_kind", "problem_notified_at", "claimed_until",
    ]  # fmt: skip
    list_filter = ["paused", "problem_kind"]
    search_fields = ["user__email"]
    list_select_related = ["user"]
    actions = ["pause", "resume"]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # The pause switch only (the change form's history logs who flipped it).
        return admin.ModelAdmin.has_change_permission(self, request, obj)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        editable = ("paused", "pause_reason", "id")
        return [f.name for f in self.model._meta.fields if f.name not in editable]

    @admin.action(description="Pause scheduled syncs", permissions=["change"])
    def pause(self, request: HttpRequest, queryset: QuerySet[UserSyncState]) -> None:
        self._set_paused(request, queryset, True)

    @admin.action(description="Resume scheduled syncs", permissions=["change"])
    def resume(self, request: HttpRequest, queryset: QuerySet[UserSyncState]) -> None:
        self._set_paused(request, queryset, False)

    def _set_paused(
        self, request: HttpRequest, queryset: QuerySet[UserSyncState], paused: bool
    ) -> None:
        changed = 0
        for state in queryset.select_related("user"):
            if support.do_set_paused(state.user, paused):
                log_user_change(request, state.user, "Paused syncing." if paused else "Resumed.")
                changed += 1
        self.message_user(request, f"{changed} user(s) {'paused' if paused else 'resumed'}.")


class UserSupportActions(SupportActionsMixin, admin.ModelAdmin[User]):
    """The support desk's actions on the user list (accounts.admin.UserAdmin)."""

    support_actions = [
        "support_sync_now",
        "support_rebuild",
        "support_pause",
        "support_resume",
        "support_disconnect",
    ]

    @admin.action(description="Sync now (queue a session)", permissions=["support"])
    def support_sync_now(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        for user in queryset:
            support.do_sync_now(user)
            self.log_change(request, user, "Sync now: queued a session (support).")
        self.message_user(request, f"Queued a session for {len(queryset)} user(s).")

    @admin.action(
        description="Rebuild (forget cursors: the next session re-verifies every link)",
        permissions=["support"],
    )
    def support_rebuild(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        for user in queryset:
            cursors = support.do_rebuild(user)
            self.log_change(
                request, user, f"Rebuild: deleted {cursors} cursor(s); next session is a full pass."
            )
        self.message_user(request, f"Rebuild set up for {len(queryset)} user(s).")

    @admin.action(description="Pause scheduled syncs", permissions=["support"])
    def support_pause(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        self._pause(request, queryset, True)

    @admin.action(description="Resume scheduled syncs", permissions=["support"])
    def support_resume(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        self._pause(request, queryset, False)

    def _pause(self, request: HttpRequest, queryset: QuerySet[User], paused: bool) -> None:
        changed = 0
        for user in queryset:
            if support.do_set_paused(user, paused):
                self.log_change(request, user, "Paused syncing." if paused else "Resumed syncing.")
                changed += 1
        self.message_user(request, f"{changed} user(s) {'paused' if paused else 'resumed'}.")

    @admin.action(
        description="Disconnect all connections (revoke and forget tokens)",
        permissions=["support"],
    )
    def support_disconnect(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        total = 0
        for user in queryset:
            done = support.do_disconnect(user)
            total += len(done)
            if done:
                names = ", ".join(c.get_provider_display() for c in done)
                self.log_change(request, user, f"Disconnected {names}.")
        self.message_user(request, f"Disconnected {total} connection(s).")


@admin.register(ItemLedgerEntry)
class ItemLedgerEntryAdmin(ReadOnlyAdmin[ItemLedgerEntry]):
    """What each session did per item, or which rule kept it out (kept 90 days)."""

    list_display = [
        "created_at", user_email, "item_type", "name", "action", "direction", "reason_code",
        "session",
    ]  # fmt: skip
    list_filter = ["item_type", "action", "direction", "reason_code"]
    search_fields = ["user__email", "name", "sf_id", "mailbox_id"]
    list_select_related = ["user"]
    raw_id_fields = ["session", "user"]
