"""The "In Salesforce:" block in mailbox copies of Salesforce events and tasks (SPEC §2b).

The block is one line Relay owns at the end of the copy's body ("— In Salesforce: With:
Ada Lovelace (Customer Ltd), Pat Prospect · Related to: Big Deal"). It is rendered from the
Salesforce event's Who, What and invitees with their names, written by this step after the
event pass, and read back by the kinds' codecs with the block stripped
(``mappers.people.strip_salesforce_block``), so it never reaches Salesforce's Description,
never changes the event's content hash and never causes an update loop.

When: for linked copies whose activity (or, for events, an invitation) changed in this
session's Salesforce read, whose relations this session's relation step wrote (so the block
settles in the same session, not one later), or whose block names a Contact that changed (a
rename). An idle session read no change and costs nothing. Events: only copies Relay
brought down (origin Salesforce), and a meeting with guests never gets a block written: its
body is shared with them (and on Graph any write to it mails them) — a user's own meeting,
or a copy the user invited people to. Tasks: every linked task (a task's notes are the
user's alone), its Who and What and, with Shared Activities, its other TaskRelation people.

Calls, when something changed: 1 activity query + 1 relation query (tasks: only with
Shared Activities, known from the org's cached describe) + one name query per record type
involved (≤ 5), then one batched mailbox update of the copies that differ. A kind whose
codec has no description patch (Google and Exchange tasks) gets its ordinary update
payload with the block in the description, over the item as it is now.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from accounts.models import User

from .link_store import decode_fields
from .mappers.people import salesforce_block, with_salesforce_block
from .models import SyncLink
from .planner import ItemType
from .records_io import ROLE
from .salesforce.adapter import chunks, soql
from .salesforce.relations import IN_CHUNK, OrgSettingCache, SalesforceRelations
from .salesforce.types import ChangeBatch, check_id


@dataclass
class BlocksOutcome:
    written: int = 0
    errors: int = 0


def _changed(item_type: ItemType, batch: ChangeBatch) -> set[str]:
    if item_type == ItemType.TASK:
        return set(batch.tasks.records)
    out = set(batch.events.records)
    for row in [*batch.invitations.records.values(), *batch.invitations.deleted.values()]:
        if row.get("EventId"):
            out.add(row["EventId"])
    return out


def _changed_records(item_type: ItemType, batch: ChangeBatch) -> set[str]:
    """The activities whose own row changed (their mailbox copy may have been rewritten
    without the block): compared with what the mailbox holds, not with the link."""
    return set(batch.tasks.records if item_type == ItemType.TASK else batch.events.records)


def _has_guests(codec: Any, item_type: ItemType, item: Mapping[str, Any]) -> bool:
    people = codec.people(item_type, item)
    return people is not None and bool(people.attendees)


def refresh_blocks(
    user: User,
    sf: Any,
    mailbox: Any,
    codec: Any,
    batch: ChangeBatch,
    raw_items: Mapping[str, Mapping[str, Any]] | None = None,
    *,
    item_type: ItemType = ItemType.EVENT,
    org_cache: OrgSettingCache | None = None,
    written: Iterable[str] = (),
    related_events: Iterable[str] = (),
    recreated: Iterable[str] = (),
) -> BlocksOutcome:
    """``raw_items``: the mailbox items of ``item_type`` this session read (JSON by id);
    ``written``: those the session has changed since (read again before building on them);
    ``related_events``: the Salesforce events whose relations this session wrote;
    ``recreated``: the Salesforce ids whose record or copy this session recreated (both
    read anew: a new record relates nobody, a new copy holds no block)."""
    outcome = BlocksOutcome()
    recreated = set(recreated)
    changed = _changed(item_type, batch) | set(related_events) | recreated
    people_changed = set(batch.contacts.records)
    if not changed and not people_changed:
        return outcome
    links = SyncLink.objects.filter(
        user=user, item_type=str(item_type), state=SyncLink.State.LINKED
    )
    if item_type == ItemType.EVENT:
        links = links.filter(origin=SyncLink.Origin.SALESFORCE)
    rows = [
        row
        for row in links
        if row.sf_id in changed
        or people_changed & set((row.relations or {}).get("block_ids") or ())
    ]
    if not rows:
        return outcome
    sobject = "Task" if item_type == ItemType.TASK else "Event"
    by_id = {row.sf_id: row for row in rows}
    relations = SalesforceRelations(sf, cache=org_cache)
    # The feed's own rows carry WhoId / WhatId: only the others (a renamed person's
    # activities) are queried — and those whose relations this session wrote, whose feed
    # row (read before the write) names the Who as it was, not as it is now.
    read = batch.tasks.records if item_type == ItemType.TASK else batch.events.records
    fresh = set(related_events) | recreated
    current: dict[str, dict[str, Any]] = {
        r.sf_id: dict(read[r.sf_id]) for r in rows if r.sf_id in read and r.sf_id not in fresh
    }
    for chunk in chunks([row.sf_id for row in rows if row.sf_id not in current], IN_CHUNK):
        id_list = ", ".join(f"'{check_id(i)}'" for i in chunk)
        for found in sf.query(soql(["Id", "WhoId", "WhatId"], sobject, [f"Id IN ({id_list})"])):
            current[found["Id"]] = found
    if item_type == ItemType.TASK:
        # A task relates people only through its WhoId (the primary Who, promoted when
        # another goes) and a record through WhatId: neither, and no block shown, is
        # nothing to do and costs no call.
        current = {
            i: a
            for i, a in current.items()
            if a.get("WhoId") or a.get("WhatId") or (by_id[i].relations or {}).get("block")
        }
        people = relations.task_people_of(list(current.values()))
    else:
        people = relations.people_of(list(current.values()))
    rewritten = _changed_records(item_type, batch) | recreated
    wanted: list[tuple[SyncLink, str, list[str], str | None]] = []
    for row in rows:
        if row.sf_id not in people:
            continue  # deleted in Salesforce: the item sync handles it
        shown = people[row.sf_id]
        block = salesforce_block(shown)
        kept = dict(row.relations or {})
        # A Salesforce change to the activity may have rewritten the copy without the
        # block: those are compared with what the mailbox holds; others with the link.
        if row.sf_id not in rewritten and block == kept.get("block", ""):
            continue
        if not block and not kept.get("block"):
            continue  # nothing to show, nothing shown
        ids = [p.id for p in shown.who] + [p.id for p in shown.invitees]
        ids += [shown.what.id] if shown.what else []
        description = decode_fields(row.snapshot).get("description")
        wanted.append((row, block, ids, with_salesforce_block(description, shown)))
    if not wanted:
        return outcome
    stale = set(written)
    held = {k: v for k, v in (raw_items or {}).items() if k not in stale}
    patchable = codec.description_payload(item_type, None) is not None
    # Every event copy to be written is read first (its body, and whether it has guests);
    # a task copy only when its row changed or the kind has no description patch.
    unread = [
        r.mailbox_id
        for r, *_ in wanted
        if r.mailbox_id not in held
        and (item_type == ItemType.EVENT or r.sf_id in rewritten or not patchable)
    ]
    if unread:
        role = ROLE[item_type]
        held.update((k, v) for k, v in mailbox.fetch(role, unread).items() if v)
    changes: list[tuple[SyncLink, str, list[str], dict[str, Any]]] = []
    for row, block, ids, text in wanted:
        item = held.get(row.mailbox_id)
        if item is not None and _has_guests(codec, item_type, item):
            # The user made the copy a meeting: its body is shared with the guests (and on
            # Graph any write to it mails them), so Relay's block is not written into it.
            continue
        if item is not None and (codec.description_text(item_type, item) or None) == text:
            if (row.relations or {}).get("block") != block:
                row.relations = {**(row.relations or {}), "block": block, "block_ids": ids}
                row.save(update_fields=["relations"])
            continue
        payload = codec.description_payload(item_type, text)
        if payload is None:  # no description patch: the whole update, block included
            fields = {**decode_fields(row.snapshot), "description": text}
            payload = codec.payload(item_type, fields, row.sf_id, item)
        changes.append((row, block, ids, payload))
    if not changes:
        return outcome
    results = mailbox.update(ROLE[item_type], [(r.mailbox_id, p) for r, _, _, p in changes])
    for (row, block, ids, _), result in zip(changes, results, strict=True):
        if not result.ok:
            outcome.errors += 1
            continue
        outcome.written += 1
        row.relations = {**(row.relations or {}), "block": block, "block_ids": ids}
        row.mailbox_version = result.version[:256]  # Relay's own write: its echo is no change
        row.save(update_fields=["relations", "mailbox_version"])
    return outcome
