"""An in-memory world for planner tests: two stores of canonical records, a link table,
the change feeds a cursor would return, and a tiny executor that applies a Plan the way
the engine will (each link written right after its write, our writes echoing back)."""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass, field, replace
from typing import Any

from syncengine.planner import (
    Conflict,
    CreateMailbox,
    CreateSalesforce,
    DeleteMailbox,
    DeleteSalesforce,
    Forget,
    Freeze,
    HoldDeletions,
    ItemType,
    LinkPair,
    LinkState,
    LinkStatus,
    MailboxRecord,
    Origin,
    Plan,
    RefreshLink,
    Relink,
    RestoreMailbox,
    SalesforceRecord,
    Side,
    Skip,
    SyncRules,
    Unfreeze,
    UpdateMailbox,
    UpdateSalesforce,
    content_hash,
    plan,
    salesforce_ids_to_read,
)

USER = "005USER"
OTHER = "005OTHER"


@dataclass
class World:
    item_type: ItemType
    now: dt.datetime
    sf: dict[str, SalesforceRecord] = field(default_factory=dict)  # tombstones kept
    mb: dict[str, MailboxRecord] = field(default_factory=dict)  # tombstones kept
    links: dict[str, LinkState] = field(default_factory=dict)  # by sf id
    sf_dirty: set[str] = field(default_factory=set)
    mb_dirty: set[str] = field(default_factory=set)
    conflicts: list[Conflict] = field(default_factory=list)
    skips: list[Skip] = field(default_factory=list)
    held: list[HoldDeletions] = field(default_factory=list)
    sf_deleted_by_sync: list[str] = field(default_factory=list)
    mb_deleted_by_sync: list[str] = field(default_factory=list)
    ids: Any = field(default_factory=lambda: itertools.count(1))

    # --- what the engine gathers -------------------------------------------------------

    def link_by_mailbox(self, mailbox_id: str) -> LinkState | None:
        return next((ln for ln in self.links.values() if ln.mailbox_id == mailbox_id), None)

    def inputs(self) -> dict[str, Any]:
        linked_mb = {ln.mailbox_id for ln in self.links.values()}
        unlinked_items = {i: r for i, r in self.mb.items() if i not in linked_mb and not r.gone}
        # Unlinked live records (the scope / window query), and whatever markers name
        # (queryAll: tombstones too). Linked unchanged records are NOT given: the planner
        # must work from the link's snapshot and facts.
        sf_current = {i: r for i, r in self.sf.items() if i not in self.links and not r.deleted}
        for sf_id in salesforce_ids_to_read(self.links.values()):
            sf_current[sf_id] = self.sf[sf_id]
        for item in unlinked_items.values():
            if item.sf_id_marker in self.sf:
                sf_current[item.sf_id_marker] = self.sf[item.sf_id_marker]
        return {
            "links": list(self.links.values()),
            "sf_changes": [self.sf[i] for i in sorted(self.sf_dirty)],
            "mailbox_changes": [self.mb[i] for i in sorted(self.mb_dirty)],
            "sf_current": sf_current,
            "mailbox_current": unlinked_items,
        }

    def plan(self, rules: SyncRules, **kwargs: Any) -> Plan:
        return plan(self.item_type, rules=rules, now=self.now, **self.inputs(), **kwargs)

    def sync(self, rules: SyncRules) -> Plan:
        result = self.plan(rules)
        self.sf_dirty.clear()
        self.mb_dirty.clear()
        self.apply(result)
        return result

    # --- user edits ------------------------------------------------------------------------

    def new_id(self, prefix: str) -> str:
        return f"{prefix}{next(self.ids):04d}"

    def put_sf(self, record: SalesforceRecord) -> None:
        self.sf[record.sf_id] = record
        self.sf_dirty.add(record.sf_id)

    def put_mb(self, item: MailboxRecord) -> None:
        self.mb[item.mailbox_id] = item
        self.mb_dirty.add(item.mailbox_id)

    # --- the executor ------------------------------------------------------------------------

    def apply(self, result: Plan) -> None:
        for action in result.actions:
            self._apply(action)

    def _write_link(self, link: LinkState) -> None:
        self.links[link.sf_id] = link

    def _apply(self, action: Any) -> None:
        now, item_type = self.now, self.item_type
        if isinstance(action, CreateMailbox | RestoreMailbox):
            old = self.links.pop(action.sf_id, None) if isinstance(action, RestoreMailbox) else None
            mailbox_id = self.new_id("mb")
            fields = dict(action.fields)
            item = MailboxRecord(mailbox_id, item_type, fields, now, sf_id_marker=action.sf_id)
            self.put_mb(item)
            self._write_link(
                LinkState(
                    action.sf_id,
                    mailbox_id,
                    action.sf_hash,
                    content_hash(fields),
                    fields,
                    old.origin if old else Origin.SALESFORCE,
                    old.state if old else LinkStatus.LINKED,
                    action.sf_facts,
                    last_synced_at=now,
                )
            )
        elif isinstance(action, UpdateMailbox):
            item = self.mb[action.mailbox_id]
            fields = dict(action.fields)
            self.put_mb(replace(item, fields=fields, modified_at=now, sf_id_marker=action.sf_id))
            link = self.links[action.sf_id]
            self._write_link(
                replace(
                    link,
                    sf_hash=action.sf_hash,
                    mailbox_hash=content_hash(fields),
                    snapshot=fields,
                    sf_facts=action.sf_facts,
                    last_synced_at=now,
                )
            )
        elif isinstance(action, DeleteMailbox):
            self.put_mb(replace(self.mb[action.mailbox_id], deleted=True, modified_at=now))
            self.mb_deleted_by_sync.append(action.mailbox_id)
            link = self.link_by_mailbox(action.mailbox_id)
            if link is not None:
                del self.links[link.sf_id]
        elif isinstance(action, CreateSalesforce):
            sf_id = self.new_id("sf")
            fields = dict(action.fields)
            record = SalesforceRecord(sf_id, item_type, fields, USER, now)
            self.put_sf(record)
            item = self.mb[action.mailbox_id]
            self.put_mb(replace(item, sf_id_marker=sf_id))
            old = self.links.pop(action.replaces_sf_id, None) if action.replaces_sf_id else None
            self._write_link(
                LinkState(
                    sf_id,
                    action.mailbox_id,
                    content_hash(fields),
                    action.mailbox_hash,
                    fields,
                    old.origin if old else Origin.MAILBOX,
                    old.state if old else LinkStatus.LINKED,
                    record.facts,
                    last_synced_at=now,
                )
            )
        elif isinstance(action, UpdateSalesforce):
            fields = dict(action.fields)
            record = replace(self.sf[action.sf_id], fields=fields, modified_at=now)
            self.put_sf(record)
            link = self.links[action.sf_id]
            self._write_link(
                replace(
                    link,
                    sf_hash=content_hash(fields),
                    mailbox_hash=action.mailbox_hash,
                    snapshot=fields,
                    sf_facts=record.facts,
                    last_synced_at=now,
                )
            )
        elif isinstance(action, DeleteSalesforce):
            self.put_sf(replace(self.sf[action.sf_id], deleted=True, modified_at=now))
            self.sf_deleted_by_sync.append(action.sf_id)
            self.links.pop(action.sf_id, None)
        elif isinstance(action, LinkPair):
            record, item = self.sf[action.sf_id], self.mb[action.mailbox_id]
            fields = dict(action.fields)
            if action.write_to == Side.SALESFORCE:
                record = replace(record, fields=fields, modified_at=now)
                self.put_sf(record)
            elif action.write_to == Side.MAILBOX:
                item = replace(item, fields=fields, modified_at=now)
            self.put_mb(replace(item, sf_id_marker=action.sf_id))
            self._write_link(
                LinkState(
                    action.sf_id,
                    action.mailbox_id,
                    record.content_hash,
                    item.content_hash,
                    fields,
                    action.origin,
                    LinkStatus.LINKED,
                    record.facts,
                    last_synced_at=now,
                )
            )
        elif isinstance(action, Relink):
            link = self.links.pop(action.old_sf_id)
            self._write_link(replace(link, sf_id=action.new_sf_id, sf_hash=None))
        elif isinstance(action, Forget):
            if self.links.get(action.sf_id, None) and (
                self.links[action.sf_id].mailbox_id == action.mailbox_id
            ):
                del self.links[action.sf_id]
        elif isinstance(action, Freeze | Unfreeze):
            state = LinkStatus.FROZEN if isinstance(action, Freeze) else LinkStatus.LINKED
            self._write_link(replace(self.links[action.sf_id], state=state))
        elif isinstance(action, RefreshLink):
            link = self.links[action.sf_id]
            self._write_link(
                replace(
                    link,
                    sf_hash=action.sf_hash or link.sf_hash,
                    mailbox_hash=action.mailbox_hash or link.mailbox_hash,
                    sf_facts=action.sf_facts or link.sf_facts,
                )
            )
        elif isinstance(action, HoldDeletions):
            self.held.append(action)
            for deletion in action.deletions:
                held = replace(self.links[deletion.sf_id], state=LinkStatus.HELD_DELETION)
                self._write_link(held)
        elif isinstance(action, Conflict):
            self.conflicts.append(action)
        elif isinstance(action, Skip):
            self.skips.append(action)
        else:  # pragma: no cover
            raise AssertionError(f"unknown action {action!r}")
