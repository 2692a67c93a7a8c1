"""What views, admin actions, commands and Celery tasks call: never an API directly."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib.auth import get_user_model

from . import scheduling
from .models import SyncLink, SyncSession


def run_claimed_session(user_id: int, trigger: str) -> SyncSession | None:
    """Run one session if no other worker runs one for this user; None when one does."""
    from .session import run_session  # the engine proper; imported late to keep this light

    owner = scheduling.worker_name()
    if not scheduling.claim(user_id, owner):
        return None
    try:
        user = get_user_model().objects.get(pk=user_id)
        session = run_session(user, trigger, heartbeat=lambda: scheduling.heartbeat(user_id, owner))
        if session.status == SyncSession.Status.ABANDONED:
            return session  # another worker holds the user now: its session decides
        retry_after = session_retry_after(session)
        scheduling.record_outcome(
            user_id,
            found_changes=session.changed,
            failed=session.status in (SyncSession.Status.FAILED, SyncSession.Status.RETRY_LATER),
            retry_after=retry_after,
            base=scheduling.base_interval(),
        )
        from .notifications import notify_after_session

        notify_after_session(user, session)
        return session
    finally:
        scheduling.release(user_id, owner)


def session_retry_after(session: SyncSession) -> timedelta | None:
    """When a rate-limited or unreachable provider wants us back (5 minutes if unsaid)."""
    if session.status != SyncSession.Status.RETRY_LATER:
        return None
    return timedelta(seconds=session.retry_after_seconds or 300)


def request_sync_now(user: Any, trigger: str = SyncSession.Trigger.MANUAL) -> None:
    """ "Sync now", a settings save or support: back to 30 minutes and queue a session."""
    from .tasks import run_sync_session

    scheduling.reset_backoff(user.pk)
    run_sync_session.delay(user.pk, str(trigger))


def dispatch_due_sessions() -> list[int]:
    from .tasks import run_sync_session

    scheduling.close_stale_sessions()
    due = scheduling.due_user_ids()
    for user_id in due:
        run_sync_session.delay(user_id, str(SyncSession.Trigger.SCHEDULE))
    return due


def resolve_held_deletions(user: Any, decision: str, item_type: str | None = None) -> int:
    """Confirm runs the held deletions; Discard keeps both sides. Returns how many were held.

    Either runs as a session of its own, under the user's lease like any other session.
    """
    from . import session as engine

    held = SyncLink.objects.filter(user=user, state=SyncLink.State.HELD_DELETION)
    if item_type:
        held = held.filter(item_type=item_type)
    count = held.count()
    if not count:
        return 0
    owner = scheduling.worker_name()
    if not scheduling.claim(user.pk, owner):
        raise SessionBusy("A sync session is running for this user; try again in a minute.")
    try:
        if decision == "confirm":
            engine.confirm_held_deletions(user, item_type)
        else:
            engine.discard_held_deletions(user, item_type)
    finally:
        scheduling.release(user.pk, owner)
    return count


class SessionBusy(Exception):
    """Another worker holds the user's lease."""


def session_row(session: SyncSession) -> dict[str, Any]:
    """One History line: totals per type and direction, in a template-friendly shape."""
    types = []
    for item_type, directions in sorted((session.counters or {}).items()):
        if item_type.startswith("_"):
            continue
        for direction, counts in sorted(directions.items()):
            shown = {k: v for k, v in counts.items() if v}
            if shown:
                types.append({"type": item_type, "direction": direction, "counts": shown})
    duration = (
        (session.finished_at - session.started_at).total_seconds() if session.finished_at else None
    )
    return {"session": session, "types": types, "duration": duration}


def last_sync_summary(user: Any) -> str | None:
    session = (
        SyncSession.objects.filter(user=user).exclude(status=SyncSession.Status.RUNNING).first()
    )
    if session is None:
        return None
    when = session.finished_at or session.started_at
    return f"{when:%Y-%m-%d %H:%M} UTC — {session.get_status_display()}"
