"""The "In Salesforce:" block in mailbox copies of Salesforce events (SPEC §2b, issue 9).

The block is one line Relay owns at the end of the copy's body ("— In Salesforce: With:
Ada Lovelace (Customer Ltd), Pat Prospect · Related to: Big Deal"). It is rendered from the
Salesforce event's Who, What and invitees with their names, written by this step after the
event pass, and read back by the kinds' codecs with the block stripped
(``mappers.people.strip_salesforce_block``), so it never reaches Salesforce's Description,
never changes the event's content hash and never causes an update loop.

When: for linked copies Relay brought down (origin Salesforce) whose event or invitations
changed in this session's Salesforce read, whose relations this session's relation step
wrote (so the block settles in the same session, not one later), or whose block names a
Contact that changed (a rename). An idle session read no change and costs nothing. A
meeting with guests never gets a block written: its body is shared with them (and on Graph
any write to it mails them) — a user's own meeting, or a copy the user invited people to.

Calls, when something changed: 1 Event query + 1 EventRelation query + one name query per
record type involved (≤ 5), then one batched mailbox update of the bodies that differ.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .link_store import decode_fields
from .mappers.people import salesforce_block, with_salesforce_block
from .models import SyncLink
from .planner import ItemType
from .records_io import ROLE
from .salesforce.adapter import chunks, soql
from .salesforce.relations import IN_CHUNK, SalesforceRelations
from .salesforce.types import ChangeBatch, check_id


@dataclass
class BlocksOutcome:
    written: int = 0
    errors: int = 0


def _changed_events(batch: ChangeBatch) -> set[str]:
    out = set(batch.events.records)
    for row in [*batch.invitations.records.values(), *batch.invitations.deleted.values()]:
        if row.get("EventId"):
            out.add(row["EventId"])
    return out


def _has_guests(codec: Any, item: Mapping[str, Any]) -> bool:
    people = codec.people(ItemType.EVENT, item)
    return people is not None and bool(people.attendees)


def refresh_blocks(
    user: Any,
    sf: Any,
    mailbox: Any,
    codec: Any,
    batch: ChangeBatch,
    raw_items: Mapping[str, Mapping[str, Any]] | None = None,
    related_events: set[str] | frozenset[str] = frozenset(),
) -> BlocksOutcome:
    """``raw_items``: the mailbox events this session read (mailbox JSON by id);
    ``related_events``: the Salesforce events whose relations this session wrote."""
    outcome = BlocksOutcome()
    events = _changed_events(batch) | set(related_events)
    people_changed = set(batch.contacts.records)
    if not events and not people_changed:
        return outcome
    rows = [
        row
        for row in SyncLink.objects.filter(
            user=user,
            item_type=str(ItemType.EVENT),
            state=SyncLink.State.LINKED,
            origin=SyncLink.Origin.SALESFORCE,
        )
        if row.sf_id in events or people_changed & set((row.relations or {}).get("block_ids") or ())
    ]
    if not rows:
        return outcome
    relations = SalesforceRelations(sf)
    current: dict[str, dict[str, Any]] = {}
    for chunk in chunks([row.sf_id for row in rows], IN_CHUNK):
        ids = ", ".join(f"'{check_id(i)}'" for i in chunk)
        for event in sf.query(soql(["Id", "WhoId", "WhatId"], "Event", [f"Id IN ({ids})"])):
            current[event["Id"]] = event
    people = relations.people_of(list(current.values()))
    wanted: list[tuple[SyncLink, str, list[str], str | None]] = []
    for row in rows:
        if row.sf_id not in people:
            continue  # deleted in Salesforce: the event sync handles it
        shown = people[row.sf_id]
        block = salesforce_block(shown)
        kept = dict(row.relations or {})
        # A Salesforce change to the event may have rewritten the body without the block:
        # those bodies are compared with what the mailbox holds; others with the link.
        if row.sf_id not in batch.events.records and block == kept.get("block", ""):
            continue
        if not block and not kept.get("block"):
            continue  # nothing to show, nothing shown
        ids = [p.id for p in shown.who] + [p.id for p in shown.invitees]
        ids += [shown.what.id] if shown.what else []
        description = decode_fields(row.snapshot).get("description")
        wanted.append((row, block, ids, with_salesforce_block(description, shown)))
    held = dict(raw_items or {})
    # Every copy to be written is read first: its body, and whether it has guests.
    unread = [r.mailbox_id for r, *_ in wanted if r.mailbox_id not in held]
    if unread:
        held.update((k, v) for k, v in mailbox.fetch(ROLE[ItemType.EVENT], unread).items() if v)
    changes: list[tuple[SyncLink, str, list[str], dict[str, Any]]] = []
    for row, block, ids, text in wanted:
        item = held.get(row.mailbox_id)
        if item is not None and _has_guests(codec, item):
            # The user made the copy a meeting: its body is shared with the guests (and on
            # Graph any write to it mails them), so Relay's block is not written into it.
            continue
        if item is not None and (codec.description_text(ItemType.EVENT, item) or None) == text:
            if (row.relations or {}).get("block") != block:
                row.relations = {**(row.relations or {}), "block": block, "block_ids": ids}
                row.save(update_fields=["relations"])
            continue
        payload = codec.description_payload(ItemType.EVENT, text)
        if payload is not None:
            changes.append((row, block, ids, payload))
    if not changes:
        return outcome
    results = mailbox.update(ROLE[ItemType.EVENT], [(r.mailbox_id, p) for r, _, _, p in changes])
    for (row, block, ids, _), result in zip(changes, results, strict=True):
        if not result.ok:
            outcome.errors += 1
            continue
        outcome.written += 1
        row.relations = {**(row.relations or {}), "block": block, "block_ids": ids}
        row.mailbox_version = result.version[:256]  # Relay's own write: its echo is no change
        row.save(update_fields=["relations", "mailbox_version"])
    return outcome
