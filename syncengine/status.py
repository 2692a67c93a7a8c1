"""What the dashboard says about syncing, truthfully (issue 10): the next sync time (the
schedule and its back-off), a pause by support and why, first-sync progress, onboarding
steps, whether Sync now may be pressed, and the user's time zone for every time shown.

Read-only: the compare-and-swap that makes a double click on Sync now queue one session is
`scheduling.mark_queued` (through `services.request_sync_now`).
"""

from __future__ import annotations

import datetime as dt
import functools
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone

from accounts.models import Connection, User
from accounts.requests import SignedInRequest

from . import scheduling
from .models import SyncSession, UserSyncState

RAN = (SyncSession.Status.SUCCEEDED, SyncSession.Status.PARTIAL)


def user_zone(user: User) -> zoneinfo.ZoneInfo:
    from syncsettings.models import SyncSettings

    name = (
        SyncSettings.objects.filter(user=user).values_list("time_zone", flat=True).first() or "UTC"
    )
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


class ZonedRequest(SignedInRequest):
    """A signed-in request that `in_user_time_zone` gave the user's zone."""

    relay_zone: zoneinfo.ZoneInfo


def in_user_time_zone(view: Callable[..., Any]) -> Callable[..., Any]:
    """Render the view with the signed-in user's zone active: `|date` shows local times."""

    @functools.wraps(view)
    def wrapped(request: Any, *args: Any, **kwargs: Any) -> Any:
        if not request.user.is_authenticated:
            return view(request, *args, **kwargs)
        zone = user_zone(request.user)
        request.relay_zone = zone
        with timezone.override(zone):
            response = view(request, *args, **kwargs)
            if hasattr(response, "render") and not getattr(response, "is_rendered", True):
                response.render()
            return response

    return wrapped


@dataclass
class Step:
    title: str
    done: bool
    url_name: str


@dataclass
class SyncStatus:
    zone_name: str
    both_connected: bool
    paused: bool
    pause_reason: str
    running: SyncSession | None
    queued: bool
    next_sync_at: dt.datetime | None
    next_sync_note: str
    backoff_minutes: int
    consecutive_failures: int
    last_session: SyncSession | None
    steps: list[Step] = field(default_factory=list)
    progress: list[dict[str, Any]] = field(default_factory=list)

    @property
    def onboarding(self) -> bool:
        return not all(step.done for step in self.steps)

    @property
    def can_sync_now(self) -> bool:
        return self.both_connected and self.running is None and not self.queued

    @property
    def sync_now_blocked_because(self) -> str:
        if not self.both_connected:
            return "Connect both Salesforce and your mailbox first."
        if self.running is not None:
            return "A sync is running now."
        if self.queued:
            return "A sync is queued; it starts in a moment."
        return ""

    @property
    def last_succeeded(self) -> bool:
        return self.last_session is not None and self.last_session.status in RAN


def _queued(state: UserSyncState | None, now: dt.datetime) -> bool:
    """A session task is queued and not lost (scheduling.mark_queued's own rule)."""
    if state is None or state.queued_at is None:
        return False
    return state.queued_at >= now - scheduling.LEASE


def status_for(user: User, now: dt.datetime | None = None) -> SyncStatus:
    now = now or timezone.now()
    zone = user_zone(user)
    sf = Connection.objects.salesforce_for(user)
    mailbox = Connection.objects.mailbox_for(user)
    both = bool(sf and sf.is_active and mailbox and mailbox.is_active)
    state = UserSyncState.objects.filter(user=user).first()
    sessions = list(SyncSession.objects.filter(user=user).order_by("-started_at")[:2])
    # One session runs at a time: of the newest two, a running one and the last finished.
    running = next((s for s in sessions if s.status == SyncSession.Status.RUNNING), None)
    last = next((s for s in sessions if s.status != SyncSession.Status.RUNNING), None)
    queued = _queued(state, now)
    paused = bool(state and state.paused)
    base = scheduling.base_interval()
    idle = state.idle_streak if state else 0
    interval = scheduling.next_interval(idle, base)
    next_at, note = _next_sync(both, paused, running, queued, state, now, base)
    from syncsettings.models import SyncSettings

    has_settings = SyncSettings.objects.filter(user=user).exists()
    first_done = last is not None and last.status in RAN
    steps = [
        Step("Connect Salesforce", bool(sf and sf.is_active), "dashboard"),
        Step("Connect your mailbox", bool(mailbox and mailbox.is_active), "dashboard"),
        Step("Choose what syncs (Filters)", has_settings, "syncsettings:filters"),
        Step("First sync", first_done, "syncengine:history"),
    ]
    return SyncStatus(
        zone_name=str(zone),
        both_connected=both,
        paused=paused,
        pause_reason=(state.pause_reason if state else "") or "",
        running=running,
        queued=queued,
        next_sync_at=next_at,
        next_sync_note=note,
        backoff_minutes=int(interval.total_seconds() // 60),
        consecutive_failures=state.consecutive_failures if state else 0,
        last_session=last,
        steps=steps,
        progress=progress_rows(running),
    )


def _next_sync(
    both: bool,
    paused: bool,
    running: SyncSession | None,
    queued: bool,
    state: UserSyncState | None,
    now: dt.datetime,
    base: dt.timedelta,
) -> tuple[dt.datetime | None, str]:
    if not both:
        return None, "Syncing starts once both sides are connected."
    if paused:
        return None, "Paused by support: no session runs until they resume it."
    if running is not None:
        return None, "A sync is running now."
    if queued:
        return now, "Queued: it starts in a moment."
    due = state.next_due_at if state else None
    if due is None or due <= now:
        # Due now: the dispatcher picks it up at its next tick (every `base`).
        return (
            now + base,
            "Due now: the scheduler starts it at its next tick, by this time at the latest.",
        )
    if state is not None and state.idle_streak:
        return due, "No changes lately, so Relay checks less often (back-off)."
    if state is not None and state.consecutive_failures:
        return due, "The last session failed; Relay retries then."
    return due, ""


def progress_rows(session: SyncSession | None) -> list[dict[str, Any]]:
    if session is None:
        return []
    rows = []
    for item_type, counts in sorted((session.progress or {}).items()):
        total = int(counts.get("total") or 0)
        done = min(int(counts.get("done") or 0), total)
        percent = round(100 * done / total) if total else 100
        rows.append({"type": item_type, "done": done, "total": total, "percent": percent})
    return rows
