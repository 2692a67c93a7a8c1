"""Decisions for one existing link: scope and windows, the deletion table with its first
guard, conflicts, and plain updates (SPEC §3 to §5)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, replace
from enum import Enum
from typing import Any

from .actions import (
    Action,
    Conflict,
    CreateSalesforce,
    DeleteMailbox,
    DeleteSalesforce,
    Forget,
    Freeze,
    RefreshLink,
    Relink,
    RestoreMailbox,
    Skip,
    Unfreeze,
    UpdateMailbox,
    UpdateSalesforce,
)
from .links import LinkState, LinkStatus, Origin
from .records import ItemType, MailboxRecord, SalesforceRecord, Side, same_content
from .rules import SyncRules, in_scope


class SideState(Enum):
    SAME = "same"
    CHANGED = "changed"
    GONE = "gone"  # deleted, or (mailbox) moved out / category removed


def side_changed(
    current_hash: str,
    stored_hash: str | None,
    fields: Mapping[str, Any],
    snapshot: Mapping[str, Any],
) -> bool:
    # vdirsyncer's rule, hash first: a side changed only when its hash moved. Content equal
    # to the snapshot is not a change either (a side that re-serialises what we wrote).
    return current_hash != stored_hash and not same_content(fields, snapshot)


def later_side(sf: SalesforceRecord, mb: MailboxRecord) -> Side:
    """Who wins a conflict: the later modification; a tie goes to Salesforce."""
    return Side.MAILBOX if mb.modified_at > sf.modified_at else Side.SALESFORCE


@dataclass
class LinkContext:
    """What the per-link decision reads besides the link itself."""

    item_type: ItemType
    rules: SyncRules
    now: dt.datetime
    sf_seen: Mapping[str, SalesforceRecord]
    mb_seen: Mapping[str, MailboxRecord]
    linked_sf_ids: set[str]  # grows as merges relink; a master already linked is taken
    moved_items: Mapping[str, MailboxRecord]  # sf id → unlinked item carrying its marker


def decide_link(link: LinkState, ctx: LinkContext) -> list[Action]:
    out: list[Action] = []
    sf = ctx.sf_seen.get(link.sf_id)
    mb = ctx.mb_seen.get(link.mailbox_id)

    if sf is not None and sf.merged_into and sf.merged_into != link.sf_id:
        master_id = sf.merged_into
        if master_id in ctx.linked_sf_ids:
            # Both halves of the merge had a mailbox copy; the master keeps its own.
            return [DeleteMailbox(link.mailbox_id, link.sf_id, f"merged into {master_id}")]
        out.append(Relink(link.sf_id, master_id, link.mailbox_id))
        ctx.linked_sf_ids.add(master_id)
        # The master's content is compared as a change against the old hash and snapshot.
        link = replace(link, sf_id=master_id, sf_hash=None)
        sf = ctx.sf_seen.get(master_id)
        if sf is None:
            return [*out, Skip("merge master not fetched", master_id, link.mailbox_id)]

    if sf is None and link.sf_pending:
        # A change seen earlier but not synced down: deciding without it could lose it.
        return [*out, Skip("pending Salesforce change not read", link.sf_id, link.mailbox_id)]

    sf_state = sf_side_state(link, sf)
    mb_state = mailbox_side_state(link, mb)
    refresh = _refresh(link, sf if sf_state != SideState.GONE else None, mb, sf_state, mb_state)
    if refresh is not None:
        out.append(refresh)

    if mb_state == SideState.GONE and sf_state != SideState.GONE and link.sf_id in ctx.moved_items:
        # The item came back under a new id (a Graph move changes ids), still carrying our
        # marker: not a deletion. The marker pass links the new item.
        return [*out, Forget(link.sf_id, link.mailbox_id, "mailbox item moved; marker relinks")]

    sf_view = sf if sf is not None and sf_state != SideState.GONE else None
    sf_view = sf_view or link.last_known_salesforce(ctx.item_type)
    scope = in_scope(sf_view, ctx.rules, ctx.now) if sf_view is not None else None
    frozen = link.state == LinkStatus.FROZEN
    down = ctx.rules.down_allowed(ctx.item_type)

    if sf_state == SideState.GONE or mb_state == SideState.GONE:
        return out + _deletion(link, ctx, sf, mb, sf_state, mb_state, scope, frozen)

    if ctx.item_type in (ItemType.TASK, ItemType.EVENT):
        # Leaving a window is never a deletion: the link freezes and down-sync stops.
        if scope is False and not frozen:
            freeze: Action | None = Freeze(link.sf_id, link.mailbox_id)
            frozen = True
        elif scope is True and frozen:
            out.append(Unfreeze(link.sf_id, link.mailbox_id))
            frozen, freeze = False, None
        else:
            freeze = None
        out += _sync(link, sf, mb, sf_state, mb_state, down and not frozen)
        return out + ([freeze] if freeze else [])

    if scope is False and link.origin == Origin.SALESFORCE and down:
        # A contact brought down that left the scope: up-sync a pending mailbox edit so
        # nothing is lost, then remove the mailbox copy. Salesforce is untouched.
        if mb_state == SideState.CHANGED and mb is not None:
            sf_changed = sf if sf_state == SideState.CHANGED else None
            if sf_changed is not None and later_side(sf_changed, mb) == Side.SALESFORCE:
                out.append(Conflict(link.sf_id, link.mailbox_id, Side.SALESFORCE, mb.fields))
            else:
                update = UpdateSalesforce(link.sf_id, link.mailbox_id, mb.fields, mb.content_hash)
                out.append(update)
        return [*out, DeleteMailbox(link.mailbox_id, link.sf_id, "left the contact scope")]
    return out + _sync(link, sf, mb, sf_state, mb_state, down)


def sf_side_state(link: LinkState, sf: SalesforceRecord | None) -> SideState:
    if sf is None:
        return SideState.SAME
    if sf.deleted:
        return SideState.GONE
    changed = side_changed(sf.content_hash, link.sf_hash, sf.fields, link.snapshot)
    return SideState.CHANGED if changed else SideState.SAME


def mailbox_side_state(link: LinkState, mb: MailboxRecord | None) -> SideState:
    if mb is None:
        return SideState.SAME
    if mb.gone:
        return SideState.GONE
    changed = side_changed(mb.content_hash, link.mailbox_hash, mb.fields, link.snapshot)
    return SideState.CHANGED if changed else SideState.SAME


def _refresh(
    link: LinkState,
    sf: SalesforceRecord | None,
    mb: MailboxRecord | None,
    sf_state: SideState,
    mb_state: SideState,
) -> RefreshLink | None:
    """New scope facts, or a new hash for a side whose content is unchanged."""
    sf_hash = mb_hash = facts = None
    if sf is not None and sf_state == SideState.SAME and sf.content_hash != link.sf_hash:
        sf_hash = sf.content_hash
    if mb is not None and mb_state == SideState.SAME and mb.content_hash != link.mailbox_hash:
        mb_hash = mb.content_hash
    if sf is not None and sf.facts != link.sf_facts:
        facts = sf.facts
    if sf_hash is None and mb_hash is None and facts is None:
        return None
    return RefreshLink(link.sf_id, link.mailbox_id, sf_hash, mb_hash, facts)


def _sync(
    link: LinkState,
    sf: SalesforceRecord | None,
    mb: MailboxRecord | None,
    sf_state: SideState,
    mb_state: SideState,
    down: bool,
) -> list[Action]:
    """Both sides alive: propagate the changed side; both changed is a conflict."""
    sf_changed = sf_state == SideState.CHANGED and sf is not None
    mb_changed = mb_state == SideState.CHANGED and mb is not None
    if sf_changed and mb_changed:
        assert sf is not None and mb is not None
        if same_content(sf.fields, mb.fields):
            # Both made the same edit: only the link learns it.
            return [RefreshLink(link.sf_id, link.mailbox_id, sf.content_hash, mb.content_hash)]
        if later_side(sf, mb) == Side.MAILBOX:
            return [
                UpdateSalesforce(link.sf_id, link.mailbox_id, mb.fields, mb.content_hash),
                Conflict(link.sf_id, link.mailbox_id, Side.MAILBOX, sf.fields),
            ]
        conflict = Conflict(link.sf_id, link.mailbox_id, Side.SALESFORCE, mb.fields)
        if not down:
            # Salesforce is newer but not written down now: the mailbox edit lost, and is
            # logged; Salesforce's version stays pending and goes down when allowed.
            consumed = RefreshLink(link.sf_id, link.mailbox_id, mailbox_hash=mb.content_hash)
            return [consumed, conflict]
        return [
            UpdateMailbox(link.mailbox_id, link.sf_id, sf.fields, sf.content_hash, sf.facts),
            conflict,
        ]
    if sf_changed:
        assert sf is not None
        if not down:
            return [Skip("Salesforce change not synced down", link.sf_id, link.mailbox_id)]
        return [UpdateMailbox(link.mailbox_id, link.sf_id, sf.fields, sf.content_hash, sf.facts)]
    if mb_changed:
        assert mb is not None
        # Up-sync of a marked item always runs, whatever the down-sync switch says.
        return [UpdateSalesforce(link.sf_id, link.mailbox_id, mb.fields, mb.content_hash)]
    return []


def _deletion(
    link: LinkState,
    ctx: LinkContext,
    sf: SalesforceRecord | None,
    mb: MailboxRecord | None,
    sf_state: SideState,
    mb_state: SideState,
    scope: bool | None,
    frozen: bool,
) -> list[Action]:
    """SPEC §4: the deletion table, after guard 1 (an edit beats a deletion)."""
    if sf_state == SideState.GONE and mb_state == SideState.GONE:
        return [Forget(link.sf_id, link.mailbox_id, "deleted on both sides")]
    if sf_state == SideState.GONE:
        if mb_state == SideState.CHANGED and mb is not None:
            return [CreateSalesforce(mb.mailbox_id, mb.fields, mb.content_hash, link.sf_id)]
        return [DeleteMailbox(link.mailbox_id, link.sf_id, "deleted in Salesforce")]

    # The mailbox copy is gone (deleted, moved out, category removed).
    if ctx.item_type == ItemType.CONTACT and scope is False and link.origin == Origin.SALESFORCE:
        # It was leaving the scope anyway; its Salesforce record stays untouched.
        return [Forget(link.sf_id, link.mailbox_id, "gone from mailbox after leaving scope")]
    if sf_state == SideState.CHANGED and sf is not None:
        if frozen or scope is False:
            # Outside the window nothing is synced down; keep the edited record, drop the pair.
            return [Forget(link.sf_id, link.mailbox_id, "edited in Salesforce, gone from mailbox")]
        return [RestoreMailbox(link.sf_id, link.mailbox_id, sf.fields, sf.content_hash, sf.facts)]
    if ctx.rules.auto_removal(ctx.item_type):
        return [DeleteSalesforce(link.sf_id, link.mailbox_id, "deleted in the mailbox")]
    if ctx.rules.down_allowed(ctx.item_type) and not frozen and scope is not False:
        # Unchanged since the last sync, the snapshot is what Salesforce holds.
        fields, sf_hash, facts = link.snapshot, link.sf_hash, link.sf_facts
        if sf is not None:
            fields, sf_hash, facts = sf.fields, sf.content_hash, sf.facts
        if sf_hash is None or facts is None:
            return [Skip("restore needs the Salesforce record", link.sf_id, link.mailbox_id)]
        return [RestoreMailbox(link.sf_id, link.mailbox_id, fields, sf_hash, facts)]
    return [Forget(link.sf_id, link.mailbox_id, "deleted in the mailbox, auto-removal off")]
