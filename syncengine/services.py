"""What views, admin actions, commands and Celery tasks call: never an API directly."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction

from accounts.models import User

from . import scheduling
from .history import last_sync_summary
from .models import HeldDecision, SyncLink, SyncSession
from .runs import run_claimed_session, session_retry_after
from .tasks import enqueue_due_sessions, run_sync_session

__all__ = [
    "HeldDecisionResult",
    "decide_held_deletions",
    "dispatch_due_sessions",
    "last_sync_summary",
    "request_sync_now",
    "run_claimed_session",
    "session_retry_after",
    "session_row",
]


def request_sync_now(user: User, trigger: str = SyncSession.Trigger.MANUAL) -> bool:
    """ "Sync now", a settings save or support: back to 30 minutes and queue a session,
    once the request's transaction commits. Never a second task while one is queued or
    running for the user (that one reads every change anyway). True when one was queued."""
    scheduling.reset_backoff(user.pk)
    if not scheduling.mark_queued(user.pk):
        return False
    user_id = user.pk
    transaction.on_commit(lambda: run_sync_session.delay(user_id, str(trigger)))
    return True


def dispatch_due_sessions() -> list[int]:
    return enqueue_due_sessions()


@dataclass(frozen=True)
class HeldDecisionResult:
    count: int  # held deletions the decision applies to
    busy: bool  # a session is running: the decision is carried out when it ends


def decide_held_deletions(
    user: User, decision: str, item_type: str | None = None
) -> HeldDecisionResult:
    """Record Confirm or Discard on the user's held deletions (all types, or one) and queue
    the session that carries it out (syncengine.runs); nothing runs in the request."""
    held = SyncLink.objects.filter(user=user, state=SyncLink.State.HELD_DELETION)
    if item_type:
        held = held.filter(item_type=item_type)
    count = held.update(held_decision=HeldDecision(decision))
    if not count:
        return HeldDecisionResult(0, False)
    busy = scheduling.is_busy(user.pk)
    request_sync_now(user, SyncSession.Trigger.MANUAL)
    return HeldDecisionResult(count, busy)


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
