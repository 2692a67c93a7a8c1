"""The planner's entry point: canonical records + links + rules + now → a Plan.

Pure: no I/O, no ORM, no clock (``now`` is an input). One call per item type.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping

from .actions import (
    Action,
    CreateMailbox,
    CreateSalesforce,
    DeleteMailbox,
    DeleteSalesforce,
    Forget,
    HoldDeletions,
    LinkPair,
    Plan,
    Skip,
    stage_of,
)
from .linked import LinkContext, decide_link, later_side
from .links import LinkState, LinkStatus, Origin
from .matching import match_pairs
from .records import ItemType, MailboxRecord, SalesforceRecord, Side, same_content
from .rules import SyncRules, deletion_brake_threshold, in_scope


def plan(
    item_type: ItemType,
    *,
    links: Iterable[LinkState],
    sf_changes: Iterable[SalesforceRecord],
    mailbox_changes: Iterable[MailboxRecord],
    rules: SyncRules,
    now: dt.datetime,
    full_pass: bool = False,
    sf_current: Mapping[str, SalesforceRecord] | None = None,
    mailbox_current: Mapping[str, MailboxRecord] | None = None,
    mailbox_capacity: int | None = None,
) -> Plan:
    """Plan one item type's session.

    ``links``: every link of the type (scope, windows and the brake need all of them).
    ``sf_changes`` / ``mailbox_changes``: what the cursors returned, tombstones included
    (``deleted``; on the mailbox side also ``marked=False`` for items moved out).
    ``sf_current`` / ``mailbox_current``: records read besides the change feeds (the
    current scope after a settings save or for the sliding windows, merge masters, the
    records named by markers, match candidates); the change feeds win over them.
    Only explicit tombstones delete: a record absent from every input is left alone.
    ``full_pass``: the inputs are a reconciling full read; linked records it did not
    return are reported as skipped (kept), never deleted.
    ``mailbox_capacity``: how many items of the type the mailbox may hold in all (None:
    no limit). Creates that would pass it are skipped (``Plan.left_out``), never sent.
    """
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    links = sorted(links, key=lambda link: (link.sf_id, link.mailbox_id))
    sf_seen = {r.sf_id: r for r in (sf_current or {}).values() if r.item_type == item_type}
    sf_seen.update({r.sf_id: r for r in sf_changes if r.item_type == item_type})
    mb_seen = {
        r.mailbox_id: r for r in (mailbox_current or {}).values() if r.item_type == item_type
    }
    mb_seen.update({r.mailbox_id: r for r in mailbox_changes if r.item_type == item_type})

    linked_sf = {link.sf_id for link in links}
    linked_mb = {link.mailbox_id for link in links}
    problems: list[str] = []
    if item_type == ItemType.CONTACT and rules.contact_view_missing:
        problems.append(
            "contact view missing: no contacts are synced down until another view is picked"
        )

    # Unlinked, live, marked mailbox items carrying our marker, by the id they carry.
    unlinked_items = [
        item for item in mb_seen.values() if item.mailbox_id not in linked_mb and not item.gone
    ]
    by_marker: dict[str, MailboxRecord] = {}
    for item in sorted(unlinked_items, key=lambda r: r.mailbox_id):
        if item.sf_id_marker and item.sf_id_marker not in by_marker:
            by_marker[item.sf_id_marker] = item

    ctx = LinkContext(item_type, rules, now, sf_seen, mb_seen, set(linked_sf), by_marker)
    actions: list[Action] = []
    released: dict[str, LinkState] = {}  # links dropped because their item moved
    for link in links:
        if link.state == LinkStatus.HELD_DELETION:
            actions.append(Skip("deletion awaiting confirmation", link.sf_id, link.mailbox_id))
            continue
        decided = decide_link(link, ctx)
        for action in decided:
            if isinstance(action, Forget) and link.sf_id in by_marker:
                released[link.sf_id] = link
        actions += decided
        if full_pass and link.sf_id not in sf_seen and link.state == LinkStatus.LINKED:
            actions.append(Skip("not returned by the full pass; kept", link.sf_id))

    taken_sf = set(ctx.linked_sf_ids) - set(released)
    actions += _unlinked(item_type, rules, now, sf_seen, unlinked_items, released, taken_sf)
    left_out = 0
    if mailbox_capacity is not None:
        # Every link has a copy in the mailbox, and so has every unlinked live item.
        occupied = len(links) + len(unlinked_items)
        actions, left_out = _within_capacity(actions, mailbox_capacity - occupied)
    actions = _brake(actions, len(links))
    return Plan(item_type, tuple(sorted(actions, key=stage_of)), tuple(problems), left_out)


LEFT_OUT_FULL = "the mailbox holds as many items of the type as it can"


def _within_capacity(actions: list[Action], room: int) -> tuple[list[Action], int]:
    """Keep the first `room` mailbox creates (by Salesforce id, so the same records stay
    in from session to session); the others become skips."""
    creates = sorted((a for a in actions if isinstance(a, CreateMailbox)), key=lambda a: a.sf_id)
    over = {a.sf_id for a in creates[max(room, 0) :]}
    if not over:
        return actions, 0
    kept: list[Action] = [
        Skip(LEFT_OUT_FULL, action.sf_id)
        if isinstance(action, CreateMailbox) and action.sf_id in over
        else action
        for action in actions
    ]
    return kept, len(over)


def _unlinked(
    item_type: ItemType,
    rules: SyncRules,
    now: dt.datetime,
    sf_seen: Mapping[str, SalesforceRecord],
    unlinked_items: list[MailboxRecord],
    released: Mapping[str, LinkState],
    taken_sf: set[str],
) -> list[Action]:
    """Marker healing, then matching, then creation: never create what can be linked."""
    out: list[Action] = []
    items = sorted(unlinked_items, key=lambda r: r.mailbox_id)
    unmatched: list[MailboxRecord] = []
    for item in items:
        marker = item.sf_id_marker
        if not marker:
            unmatched.append(item)
            continue
        record = sf_seen.get(marker)
        if record is None and marker in released:
            record = released[marker].last_known_salesforce(item_type)
        if marker in taken_sf:
            # A copy of an item that is linked already: linking or creating would duplicate.
            out.append(Skip("carries the marker of a linked record", marker, item.mailbox_id))
        elif record is None:
            out.append(Skip("marker record not fetched", marker, item.mailbox_id))
        elif record.deleted or record.merged_into:
            # Our record is gone; the user keeps the item in the folder: send it up anew.
            unmatched.append(item)
        else:
            known = released.get(marker)
            origin = known.origin if known else _origin(record, rules, now)
            out.append(_link_pair(record, item, origin, "marker"))
            taken_sf.add(marker)

    candidates = [
        r
        for r in sf_seen.values()
        if r.sf_id not in taken_sf and not r.deleted and not r.merged_into
    ]
    down = rules.down_allowed(item_type)
    paired_sf: set[str] = set()
    paired_mb: set[str] = set()
    for record, item in match_pairs(item_type, candidates, unmatched):
        out.append(_link_pair(record, item, _origin(record, rules, now), "key"))
        paired_sf.add(record.sf_id)
        paired_mb.add(item.mailbox_id)

    for item in unmatched:
        if item.mailbox_id not in paired_mb:
            out.append(CreateSalesforce(item.mailbox_id, item.fields, item.content_hash))
    if down:
        for record in sorted(candidates, key=lambda r: r.sf_id):
            if record.sf_id not in paired_sf and in_scope(record, rules, now) is True:
                out.append(
                    CreateMailbox(record.sf_id, record.fields, record.content_hash, record.facts)
                )
    return out


def _origin(record: SalesforceRecord, rules: SyncRules, now: dt.datetime) -> Origin:
    """A newly linked pair counts as brought down when down-sync would have brought it;
    otherwise it is the user's own item (and stays linked if it is out of scope)."""
    scoped = rules.down_allowed(record.item_type) and in_scope(record, rules, now) is True
    return Origin.SALESFORCE if scoped else Origin.MAILBOX


def _link_pair(record: SalesforceRecord, item: MailboxRecord, origin: Origin, by: str) -> LinkPair:
    """Reconcile a newly linked pair: equal content writes nothing; otherwise the later
    modification wins and a tie goes to Salesforce, as for conflicts."""
    if same_content(record.fields, item.fields):
        winner, write_to, fields = Side.SALESFORCE, None, record.fields
    elif later_side(record, item) == Side.MAILBOX:
        winner, write_to, fields = Side.MAILBOX, Side.SALESFORCE, item.fields
    else:
        winner, write_to, fields = Side.SALESFORCE, Side.MAILBOX, record.fields
    return LinkPair(
        sf_id=record.sf_id,
        mailbox_id=item.mailbox_id,
        fields=fields,
        winner=winner,
        write_to=write_to,
        sf_hash=record.content_hash,
        mailbox_hash=item.content_hash,
        sf_facts=record.facts,
        origin=origin,
        matched_by=by,
    )


def _brake(actions: list[Action], link_count: int) -> list[Action]:
    """Guard 2: more than max(25, 20 %) deletions on one side are held, nothing else."""
    threshold = deletion_brake_threshold(link_count)
    kept = list(actions)
    for side, kind in ((Side.MAILBOX, DeleteMailbox), (Side.SALESFORCE, DeleteSalesforce)):
        deletions = [action for action in kept if isinstance(action, kind)]
        if len(deletions) > threshold:
            kept = [action for action in kept if not isinstance(action, kind)]
            reason = f"{len(deletions)} deletions in {side} exceed {threshold}"
            kept.append(HoldDeletions(side, tuple(deletions), reason))
    return kept
