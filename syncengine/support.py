"""The support desk's business actions (Zulip-style `do_*`): the admin only authorizes,
calls one of these and writes the admin log.

Rebuild deletes the user's cursors and nothing else. Without a cursor the next session
reads every item on both sides (a full pass, as after an expired delta link or sync
token), and the planner matches what it reads to the existing links by Salesforce id and
mailbox id, then to unlinked items by the Salesforce-id markers Relay stored on mailbox
items and by content (contacts by address, events by start and subject, tasks by subject
and due date). Every link is thus re-verified against both sides — a changed item is
synced, a missing one handled by the deletion rules — and nothing is created twice.
Links, containers and settings stay: dropping links would turn the markers into the only
memory of what was synced, and dropping containers would make Relay create a second
"Salesforce Contacts" folder.
"""

from __future__ import annotations

from django.db import transaction

from accounts.models import Connection, User
from accounts.oauth.services import disconnect

from . import scheduling, services
from .models import SyncCursor, SyncSession, UserSyncState


def do_sync_now(user: User) -> None:
    services.request_sync_now(user, SyncSession.Trigger.SUPPORT)


@transaction.atomic
def do_rebuild(user: User) -> int:
    """Forget where the user's feeds stopped: the next session is a full pass. Returns how
    many cursors were deleted."""
    deleted, _ = SyncCursor.objects.filter(user=user).delete()
    scheduling.reset_backoff(user.pk)
    return deleted


def do_set_paused(user: User, paused: bool, reason: str = "") -> bool:
    """Pause or resume the scheduled sessions; `reason` is what the user's dashboard shows
    while paused. True when the paused state changed."""
    scheduling.state_for(user.pk)
    rows = UserSyncState.objects.filter(user=user)
    changed = bool(rows.exclude(paused=paused).update(paused=paused))
    rows.update(pause_reason=reason[:300] if paused else "")
    return changed


def do_disconnect(user: User) -> list[Connection]:
    """Disconnect every live connection of the user (revoke at the provider where possible,
    forget the tokens). Returns the connections disconnected."""
    done = []
    for connection in Connection.objects.filter(user=user).exclude(
        status=Connection.Status.DISCONNECTED
    ):
        disconnect(connection)
        done.append(connection)
    return done


def do_resolve_held(
    user: User, decision: str, item_type: str | None = None
) -> services.HeldDecisionResult:
    """Record Confirm or Discard on the user's held deletions (of one type, or all) and
    queue the session that carries it out; `busy` when the user's session is running."""
    return services.decide_held_deletions(user, decision, item_type)
