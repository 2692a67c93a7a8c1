"""Celery tasks: beat dispatches due users; a worker runs one user's session."""

from __future__ import annotations

from celery import shared_task

from . import ledger, runs, scheduling
from .models import SyncSession


@shared_task(name="relay.dispatch_due_sessions", ignore_result=True)  # type: ignore[untyped-decorator]  # celery has no hints
def dispatch_due_sessions() -> int:
    """Beat runs this every interval (30 minutes, editable in admin's Periodic tasks)."""
    return len(enqueue_due_sessions())


@shared_task(name="relay.run_sync_session", ignore_result=True, acks_late=True)  # type: ignore[untyped-decorator]  # celery has no hints
def run_sync_session(user_id: int, trigger: str = "schedule") -> int | None:
    """One session for one user; a no-op when another worker holds the user's lease."""
    session = runs.run_claimed_session(user_id, trigger)
    return session.pk if session else None


def enqueue_due_sessions() -> list[int]:
    """Close stale sessions and queue one session per due user (beat's side, no request)."""
    scheduling.close_stale_sessions()
    due = scheduling.due_user_ids()
    for user_id in due:
        run_sync_session.delay(user_id, str(SyncSession.Trigger.SCHEDULE))
    return due


@shared_task(name="relay.prune_item_ledger", ignore_result=True)  # type: ignore[untyped-decorator]  # celery has no hints
def prune_item_ledger() -> int:
    """Beat runs this daily: ledger rows older than 90 days go (SPEC §9)."""
    return ledger.prune()
