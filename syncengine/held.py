"""The mass-deletion brake's held deletions, confirmed or discarded: each decision runs as a
session of its own (syncengine.session's `SessionRun`), with the same outcomes and lease.

    confirm_held_deletions(user)          # run what the brake held
    discard_held_deletions(user, "task")  # keep both sides instead
    resolve_decided_held(user)            # the decisions the dashboard or support recorded
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import User

from .ledger import record_resolution
from .link_store import decode_facts, decode_fields, link_state
from .models import HeldDecision, SyncLink, SyncSession
from .planner import (
    CreateSalesforce,
    DeleteMailbox,
    DeleteSalesforce,
    ItemType,
    Plan,
    RestoreMailbox,
    Side,
)
from .session import SessionRun, build_stack, finish_with_outcome


def _held_links(
    user: User, item_type: ItemType | str | None, decision: str | None = None
) -> dict[ItemType, list[SyncLink]]:
    rows = SyncLink.objects.filter(user=user, state=SyncLink.State.HELD_DELETION)
    if item_type:
        rows = rows.filter(item_type=str(item_type))
    if decision:
        rows = rows.filter(held_decision=decision)
    out: dict[ItemType, list[SyncLink]] = {}
    for row in rows.order_by("sf_id"):
        out.setdefault(ItemType(row.item_type), []).append(row)
    return out


def _run_held(
    user: User,
    item_type: ItemType | str | None,
    confirm: bool,
    now: dt.datetime | None,
    *,
    heartbeat: Callable[[], bool] | None = None,
    decided_only: bool = False,
) -> SyncSession:
    explicit = now is not None
    now = now or timezone.now()
    session = SyncSession.objects.create(
        user=user, trigger=SyncSession.Trigger.MANUAL, heartbeat_at=timezone.now()
    )
    run = SessionRun(user, session, now, explicit, heartbeat)
    decision = (HeldDecision.CONFIRM if confirm else HeldDecision.DISCARD) if decided_only else None

    def action() -> None:
        held = _held_links(user, item_type, decision)
        if not held:
            return
        stack = run.stack = build_stack(user, now if explicit else None)
        for kind, rows in held.items():
            run.check_lease()
            actions = _confirm_actions(rows) if confirm else _discard_actions(rows)
            links = {row.sf_id: link_state(row) for row in rows}
            executor = run.executor_for(stack, kind, links, {})
            executor.run(Plan(kind, tuple(actions)))
            run.collect(executor)
            # ledger: the user's (or support's) decision on held deletions, per item
            record_resolution(session, kind, Plan(kind, tuple(actions)), rows, confirm)
            # ledger: end

    return finish_with_outcome(run, action)


def decided_held(user_id: int) -> QuerySet[SyncLink]:
    """Held deletions with a recorded Confirm / Discard (what resolve_decided_held does)."""
    return SyncLink.objects.filter(
        user_id=user_id,
        state=SyncLink.State.HELD_DELETION,
        held_decision__in=(HeldDecision.CONFIRM, HeldDecision.DISCARD),
    )


def resolve_decided_held(
    user: User, *, heartbeat: Callable[[], bool] | None = None
) -> list[SyncSession]:
    """Carry out the Confirm / Discard decisions recorded on held deletions (by the
    dashboard or support, syncengine.services.decide_held_deletions): one session each.
    The caller holds the user's lease."""
    done: list[SyncSession] = []
    if not decided_held(user.pk).exists():  # what nearly every session finds: one query
        return done
    for decision in (HeldDecision.CONFIRM, HeldDecision.DISCARD):
        pending = SyncLink.objects.filter(
            user=user, state=SyncLink.State.HELD_DELETION, held_decision=decision
        )
        if not pending.exists():
            continue
        confirm = decision == HeldDecision.CONFIRM
        ran = _run_held(user, None, confirm, None, heartbeat=heartbeat, decided_only=True)
        done.append(ran)
        if ran.status != SyncSession.Status.ABANDONED:
            # What is still held was refused (logged): it waits for the user again rather
            # than being retried by every session.
            pending.update(held_decision="")
    return done


def _confirm_actions(rows: Iterable[SyncLink]) -> list[Any]:
    actions: list[Any] = []
    for row in rows:
        if row.held_side == Side.SALESFORCE:
            actions.append(DeleteSalesforce(row.sf_id, row.mailbox_id, "confirmed"))
        else:
            actions.append(DeleteMailbox(row.mailbox_id, row.sf_id, "confirmed"))
    return actions


def _discard_actions(rows: Iterable[SyncLink]) -> list[Any]:
    """Discard keeps both sides: the side that was deleted is recreated from the link's
    snapshot (which is what the surviving side holds: an edited survivor would have been
    restored by guard 1, never held) and relinked."""
    actions: list[Any] = []
    for row in rows:
        fields = decode_fields(row.snapshot)
        if row.held_side == Side.SALESFORCE:
            # The mailbox copy was deleted; Salesforce's record is kept: bring it back down.
            facts = decode_facts(row.sf_facts)
            if facts is None:
                continue
            actions.append(RestoreMailbox(row.sf_id, row.mailbox_id, fields, row.sf_hash, facts))
        else:
            # The Salesforce record was deleted; the mailbox copy is kept: send it up anew.
            actions.append(
                CreateSalesforce(row.mailbox_id, fields, row.mailbox_hash, replaces_sf_id=row.sf_id)
            )
    return actions


def confirm_held_deletions(
    user: User, item_type: ItemType | str | None = None, *, now: dt.datetime | None = None
) -> SyncSession:
    """Run the deletions the brake held (all types, or one), as a session of their own."""
    return _run_held(user, item_type, True, now)


def discard_held_deletions(
    user: User, item_type: ItemType | str | None = None, *, now: dt.datetime | None = None
) -> SyncSession:
    """Refuse the held deletions: keep both sides (recreate the deleted side, relink)."""
    return _run_held(user, item_type, False, now)
