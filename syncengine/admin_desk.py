"""The support desk on the admin's user page (issue 10): the user's sync state, the last
10 sessions with links, held deletions, the explainer search, and buttons — Sync now,
Pause/Resume (with a reason the user sees), Rebuild, Disconnect — each behind a
confirmation page. Thin: authorize, call syncengine.support, write the admin log."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from accounts.models import User

from . import ledger_query, status, support
from .models import SyncLink, SyncSession

SUPPORT_PERMISSION = "syncengine.run_support_actions"
RECENT_SESSIONS = 10

# action → (button label, what it does, destructive)
DESK_ACTIONS: dict[str, tuple[str, str, bool]] = {
    "sync_now": ("Sync now", "Queue a session for this user now.", False),
    "pause": (
        "Pause",
        "Stop the scheduled sessions until support resumes them; the user's dashboard "
        "shows the reason you give.",
        False,
    ),
    "resume": ("Resume", "Start the scheduled sessions again.", False),
    "rebuild": (
        "Rebuild",
        "Forget where the user's feeds stopped: the next session reads both sides in full and "
        "re-verifies every link (nothing is created twice, nothing is deleted by it).",
        True,
    ),
    "disconnect": (
        "Disconnect",
        "Revoke and forget the tokens of every connection of this user. Syncing stops until "
        "the user connects again.",
        True,
    ),
}


class SupportDeskMixin(admin.ModelAdmin[User]):
    """Mixed into accounts.admin.UserAdmin (the ModelAdmin of User)."""

    desk_readonly = ["desk_sync_state", "recent_sessions", "held_deletions", "explain_search"]
    desk_fieldset = ("Sync desk", {"fields": desk_readonly})

    def get_urls(self) -> list[URLPattern]:
        site = self.admin_site
        urls = [
            path(
                "<int:user_id>/desk/<str:action>/",
                site.admin_view(self.desk_action_view),
                name="accounts_user_desk",
            ),
            path(
                "<int:user_id>/explain/",
                site.admin_view(self.desk_explain_view),
                name="accounts_user_explain",
            ),
        ]
        return urls + super().get_urls()

    # -- the panels ------------------------------------------------------------------------

    @admin.display(description="Sync state")
    def desk_sync_state(self, obj: Any) -> str:
        if obj is None or obj.pk is None:
            return "—"
        s = status.status_for(obj)
        rows = [
            ("Paused", f"yes — {s.pause_reason or 'no reason given'}" if s.paused else "no"),
            ("Next due", s.next_sync_at.strftime("%Y-%m-%d %H:%M %Z") if s.next_sync_at else "—"),
            ("Note", s.next_sync_note or "—"),
            ("Interval now (back-off)", f"{s.backoff_minutes} minutes"),
            ("Consecutive failures", str(s.consecutive_failures)),
            ("Both sides connected", "yes" if s.both_connected else "no"),
            ("Needs reconnect", _needs_reconnect(obj)),
            ("Running", f"session {s.running.pk}" if s.running else "no"),
        ]
        body = format_html_join(
            "", '<tr><th scope="row">{}</th><td>{}</td></tr>', ((k, v) for k, v in rows)
        )
        buttons = format_html_join(
            " ",
            '<a class="button" href="{}">{}</a>',
            (
                (reverse("admin:accounts_user_desk", args=[obj.pk, key]), label)
                for key, (label, _, _) in DESK_ACTIONS.items()
                if key != ("resume" if not s.paused else "pause")
            ),
        )
        return format_html(
            '<table id="desk-state"><caption>Sync state</caption>{}</table><p>{}</p>',
            body,
            buttons,
        )

    @admin.display(description="Last 10 sessions")
    def recent_sessions(self, obj: Any) -> str:
        if obj is None or obj.pk is None:
            return "—"
        sessions = SyncSession.objects.filter(user=obj).order_by("-started_at")[:RECENT_SESSIONS]
        rows = format_html_join(
            "",
            '<tr><td><a href="{}">{}</a></td><td>{}</td><td>{}</td><td>{}</td></tr>',
            (
                (
                    reverse("admin:syncengine_syncsession_change", args=[s.pk]),
                    s.started_at.strftime("%Y-%m-%d %H:%M"),
                    s.get_trigger_display(),
                    s.get_status_display(),
                    s.error[:120],
                )
                for s in sessions
            ),
        )
        return format_html(
            '<table id="desk-sessions"><caption>Last {} sessions</caption><thead><tr>'
            '<th scope="col">Started (UTC)</th><th scope="col">Trigger</th>'
            '<th scope="col">Status</th><th scope="col">Error</th></tr></thead>'
            "<tbody>{}</tbody></table>",
            RECENT_SESSIONS,
            rows or mark_safe('<tr><td colspan="4">No session yet.</td></tr>'),
        )

    @admin.display(description="Held deletions")
    def held_deletions(self, obj: Any) -> str:
        if obj is None or obj.pk is None:
            return "—"
        held = SyncLink.objects.filter(user=obj, state=SyncLink.State.HELD_DELETION)
        count = held.count()
        if not count:
            return "None."
        names = format_html_join(
            "",
            "<li>{} “{}” ({})</li>",
            ((h.item_type, h.display_name, h.held_side) for h in held[:20]),
        )
        url = (
            reverse("admin:syncengine_synclink_changelist") + f"?state=held_deletion&q={obj.email}"
        )
        return format_html(
            '<p>{} held — <a href="{}">confirm or discard</a></p><ul>{}</ul>', count, url, names
        )

    @admin.display(description="Why (not) synced?")
    def explain_search(self, obj: Any) -> str:
        if obj is None or obj.pk is None:
            return "—"
        url = reverse("admin:accounts_user_explain", args=[obj.pk])
        return format_html(
            '<a href="{}">Search this user\'s items</a> (name, email or subject; one '
            "Salesforce lookup for an item Relay never saw).",
            url,
        )

    # -- the views -------------------------------------------------------------------------

    def _desk_user(self, request: HttpRequest, user_id: int) -> Any:
        from django.contrib.auth import get_user_model

        if not request.user.has_perm(SUPPORT_PERMISSION):
            raise PermissionDenied
        return get_object_or_404(get_user_model(), pk=user_id)

    def desk_action_view(self, request: HttpRequest, user_id: int, action: str) -> HttpResponse:
        user = self._desk_user(request, user_id)
        if action not in DESK_ACTIONS:
            raise PermissionDenied
        label, explanation, destructive = DESK_ACTIONS[action]
        back = reverse("admin:accounts_user_change", args=[user.pk])
        error = ""
        if request.method == "POST":
            reason = (request.POST.get("reason") or "").strip()
            if action == "pause" and not reason:
                error = "Say why: the user sees this on their dashboard."
            elif action == "pause" and len(reason) > 300:
                error = "Keep the reason under 300 characters."
            else:
                self._run(request, user, action, reason)
                return HttpResponseRedirect(back)
        context = {
            **self.admin_site.each_context(request),
            "title": f"{label}: {user.email}",
            "target": user,
            "action": action,
            "label": label,
            "explanation": explanation,
            "destructive": destructive,
            "error": error,
            "back": back,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/relay/desk_confirm.html", context)

    def _run(self, request: HttpRequest, user: User, action: str, reason: str) -> None:
        log = self.log_change
        if action == "sync_now":
            support.do_sync_now(user)
            log(request, user, "Sync now: queued a session (support).")
        elif action in ("pause", "resume"):
            support.do_set_paused(user, action == "pause", reason)
            log(request, user, f"Paused syncing: {reason}" if action == "pause" else "Resumed.")
        elif action == "rebuild":
            cursors = support.do_rebuild(user)
            log(
                request, user, f"Rebuild: deleted {cursors} cursor(s); next session is a full pass."
            )
        elif action == "disconnect":
            done = support.do_disconnect(user)
            names = ", ".join(c.get_provider_display() for c in done) or "nothing"
            log(request, user, f"Disconnected {names}.")
        self.message_user(request, f"{DESK_ACTIONS[action][0]}: done.", messages.SUCCESS)

    def desk_explain_view(self, request: HttpRequest, user_id: int) -> HttpResponse:
        from accounts.providers.errors import ProviderError

        from .planner import ItemType

        user = self._desk_user(request, user_id)
        query = request.GET.get("q", "")
        lookup = request.GET.get("lookup", "")
        answers: list[ledger_query.ItemAnswer] = []
        error = ""
        if query:
            try:
                answers = ledger_query.search(user, query)
                if not answers and lookup in ledger_query.ITEM_TYPES:
                    answers = ledger_query.lookup_in_salesforce(user, query, ItemType(lookup))
            except ledger_query.BadQuery as exc:
                error = str(exc)
            except ProviderError as exc:
                error = f"Salesforce did not answer the lookup: {exc}"
        context = {
            **self.admin_site.each_context(request),
            "title": f"Why (not) synced? {user.email}",
            "target": user,
            "query": query,
            "answers": answers,
            "error": error,
            "back": reverse("admin:accounts_user_change", args=[user.pk]),
            "opts": self.model._meta,
            "lookup_types": [(t.value, t.value.title()) for t in ledger_query.ITEM_TYPES],
        }
        return TemplateResponse(request, "admin/relay/desk_explain.html", context)


def _needs_reconnect(user: User) -> str:
    from accounts.models import Connection

    bad = Connection.objects.filter(user=user, status=Connection.Status.NEEDS_RECONNECT)
    names = ", ".join(c.get_provider_display() for c in bad)
    return names or "no"
