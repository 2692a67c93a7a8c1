"""Read-only summaries of a user's sessions, for pages outside the engine (no engine
import: the settings pages depend on this, the engine depends on the settings)."""

from __future__ import annotations

from accounts.models import User

from .models import SyncSession


def last_sync_summary(user: User) -> str | None:
    session = (
        SyncSession.objects.filter(user=user).exclude(status=SyncSession.Status.RUNNING).first()
    )
    if session is None:
        return None
    when = session.finished_at or session.started_at
    return f"{when:%Y-%m-%d %H:%M} UTC — {session.get_status_display()}"
