"""Everything one session reads, turned into the planner's inputs (per item type).

Cost rule: a session with no change and no pending link reads exactly the two change
feeds — one Salesforce Composite call and one Graph `$batch` (three Google list calls).
Every other read below is made only when the feeds or the link table ask for it:

- linked records with a pending Salesforce change (`salesforce_ids_to_read`);
- the records named by the marker on unlinked mailbox items (Graph leaves the marker out
  of its contacts and events delta, so those items are fetched first), tombstones too;
- merge masters of merged-away contacts;
- match candidates for new unmarked mailbox items (contacts by email, tasks and events by
  subject), so an item the user files that already exists in Salesforce links instead
  of duplicating;
- linked items a full mailbox read did not return, and Graph events reported removed
  (Graph reports "left the calendar window" that way): fetched, and only those confirmed
  gone become tombstones;
- the scope read: unlinked records that entered the down-sync scope without being
  modified, so they are not in the change feed. Tasks only enter their scope by a
  modification (a task never becomes open or recently modified by the clock alone), but
  the event window slides every day, a contact view's membership can change with no
  edit of the contact, and a settings change (down switch, contact scope, view) widens
  the scope. So a type's scope is read again when its settings fingerprint changed, and
  events and view contacts also once per local day (the "scope:<type>" cursor).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from . import reconcile
from .mailboxes.base import ContainerRef, MailboxAdapter, MailboxChanges, MailboxCodec
from .planner import (
    ItemType,
    LinkState,
    LinkStatus,
    MailboxRecord,
    SalesforceRecord,
    SyncRules,
    salesforce_ids_to_read,
)
from .planner.rules import EVENT_LOOKAHEAD, EVENT_LOOKBACK, local_date
from .reconcile import LAST_READ_CURSOR, ROUTINE_CURSOR
from .records_io import ROLE, SOBJECT, sf_record
from .salesforce.adapter import NOT_EMAIL_TASK, SalesforceAdapter
from .salesforce.email import soql_string
from .salesforce.types import ChangeBatch, Changes, SalesforceCursor, soql_datetime

logger = logging.getLogger(__name__)
SF_OBJECTS_OF = {
    ItemType.CONTACT: ("Contact",),
    ItemType.TASK: ("Task",),
    ItemType.EVENT: ("Event", "EventRelation"),
}
MATCH_CHUNK = 100
# Types whose raw mailbox JSON serves only the executor's updates and markers (tasks' and
# events' also feed the "In Salesforce:" block and the meeting relations, echoes included):
# a settled echo of these keeps its record, not its JSON (`Reader._settled_sf_ids`).
LEAN_TYPES = (ItemType.CONTACT,)
RECONCILED_OBJECTS = ("Contact", "Task", "Event")  # getDeleted probes ride the feed read
# (cursors by container role, containers) -> changes by role, as read_all_changes
MailboxRead = Callable[
    [Mapping[str, str | None], Mapping[str, ContainerRef]], dict[str, MailboxChanges]
]


@dataclass
class TypeInputs:
    item_type: ItemType
    links: dict[str, LinkState]
    sf_changes: dict[str, SalesforceRecord] = field(default_factory=dict)
    mailbox_changes: dict[str, MailboxRecord] = field(default_factory=dict)
    sf_current: dict[str, SalesforceRecord] = field(default_factory=dict)
    raw_items: dict[str, dict[str, Any]] = field(default_factory=dict)  # mailbox JSON by id
    full_pass: bool = False
    mailbox_cursor: str = ""
    scope_cursor: dict[str, Any] | None = None  # to store after the type ran

    @property
    def quiet(self) -> bool:
        return not (self.sf_changes or self.mailbox_changes or self.sf_current)


@dataclass
class Reader:
    """Reads for one session; `cursors` is the user's SyncCursor values by feed name."""

    sf: SalesforceAdapter
    mailbox: MailboxAdapter
    codec: MailboxCodec
    containers: Mapping[str, ContainerRef]
    cursors: Mapping[str, str]
    rules: SyncRules
    now: dt.datetime
    fingerprints: Mapping[ItemType, str]
    kind: str  # the mailbox kind's name: it names the mailbox cursors
    view_id: str | None = None

    def __post_init__(self) -> None:
        self.me = self.rules.user_sf_id
        self.new_cursors: dict[str, str] = {}
        self.reconcile_reason = ""  # why this session reconciles (syncengine.reconcile)
        self.gone: dict[ItemType, set[str]] = {}  # linked ids found gone for good
        # Mailbox items a settled write intent just linked (syncengine.intents): the feed
        # may never mention one the user deleted since (a Graph delta omits an item made
        # and deleted after its token), so they are confirmed by id like expected echoes.
        self.confirm: dict[ItemType, set[str]] = {}

    # -- the feeds --------------------------------------------------------------------------

    def read_feeds(
        self, read_mailbox: MailboxRead | None = None
    ) -> tuple[ChangeBatch, dict[str, MailboxChanges]]:
        """Both sides' change feeds; `read_mailbox` replaces the plain mailbox read (the
        email step reads its feeds in the same go)."""
        since = {
            o: SalesforceCursor.from_json(json.loads(self.cursors.get(f"salesforce:{o}") or "{}"))
            for o in ("Contact", "Task", "Event", "EventRelation")
        }
        batch = self.sf.read_changes(since, view_id=self.view_id, probe_purges=RECONCILED_OBJECTS)
        self._decide_reconciliation(since, batch)
        roles = {ROLE[t]: self.cursors.get(mailbox_feed(self.kind, t)) or None for t in ItemType}
        read = read_mailbox or self.mailbox.read_all_changes
        changes = read(roles, self.containers)
        return batch, changes

    def view_members(self, batch: ChangeBatch) -> frozenset[str] | None:
        """The chosen view's members; None when the view was deleted (its describe rode in
        the feed's Composite, so the very next session knows). The member ids are re-read
        when the view, its query (an edited filter), the day or a contact changed."""
        if batch.view_missing or batch.view_query is None:
            return None
        # An edited filter is a new scope: the fingerprint makes the scope read run again.
        digest = hashlib.sha256(batch.view_query.encode()).hexdigest()[:16]
        self.fingerprints = {
            **self.fingerprints,
            ItemType.CONTACT: f"{self.fingerprints[ItemType.CONTACT]}:{digest}",
        }
        stored = json.loads(self.cursors.get("salesforce:view_members") or "{}")
        today = local_date(self.now, self.rules.zone).isoformat()
        fresh = (
            stored.get("view") == self.view_id
            and stored.get("query") == batch.view_query
            and stored.get("day") == today
            and stored.get("ids") is not None
        )
        if fresh and not batch.contacts:
            return frozenset(stored["ids"])
        members = self.sf.view_query_member_ids(batch.view_query)
        self.new_cursors["salesforce:view_members"] = json.dumps(
            {"view": self.view_id, "query": batch.view_query, "day": today, "ids": sorted(members)}
        )
        return members

    # -- reconciliation (syncengine.reconcile) ----------------------------------------------

    def _decide_reconciliation(
        self, since: Mapping[str, SalesforceCursor], batch: ChangeBatch
    ) -> None:
        last = self.cursors.get(LAST_READ_CURSOR)
        routine = self.cursors.get(ROUTINE_CURSOR)
        decision = reconcile.decide(
            self.me,
            self.now,
            dt.datetime.fromisoformat(last) if last else None,
            dt.datetime.fromisoformat(routine) if routine else None,
            batch.earliest_available,
            first_session=all(c.modstamp is None for c in since.values()) and not last,
        )
        self.reconcile_reason = decision.reason
        self.new_cursors[ROUTINE_CURSOR] = decision.next_routine.isoformat()
        self.new_cursors[LAST_READ_CURSOR] = self.now.isoformat()

    def reconcile(self, linked: Mapping[ItemType, Iterable[str]]) -> int:
        """When due, find which linked Salesforce ids are gone for good; the planner then
        sees them as deleted in Salesforce (its guards hold a mass disappearance).
        Returns the API calls spent."""
        if not self.reconcile_reason:
            return 0
        wanted = {t: sorted(set(ids)) for t, ids in linked.items()}
        before = self.sf.api_calls
        alive = self.sf.existing_ids({SOBJECT[t]: ids for t, ids in wanted.items() if ids})
        self.gone = {t: set(ids) - alive for t, ids in wanted.items()}
        spent = self.sf.api_calls - before
        logger.info(
            "reconciled %d links of %s (%s): %d gone, %d API calls",
            sum(len(ids) for ids in wanted.values()),
            self.me,
            self.reconcile_reason,
            sum(len(ids) for ids in self.gone.values()),
            spent,
        )
        return spent

    # -- per type ---------------------------------------------------------------------------

    def inputs(
        self,
        item_type: ItemType,
        links: Mapping[str, LinkState],
        batch: ChangeBatch,
        changes: MailboxChanges,
    ) -> TypeInputs:
        data = TypeInputs(item_type, dict(links))
        by_mailbox = {link.mailbox_id: link for link in links.values()}
        self._salesforce_changes(data, self._rows(item_type, batch), batch)
        for sf_id in sorted(self.gone.get(item_type, ())):
            if sf_id in links and sf_id not in data.sf_changes:  # the feed's tombstone wins
                data.sf_current[sf_id] = SalesforceRecord(
                    sf_id, item_type, {}, "", self.now, deleted=True
                )
        self._mailbox_changes(data, changes, by_mailbox)
        full_sf = SOBJECT[item_type] in batch.full  # the feed itself read the whole scope
        data.full_pass = changes.full and bool(links)
        data.mailbox_cursor = changes.cursor

        wanted: set[str] = set(salesforce_ids_to_read(links.values()))
        for record in data.sf_changes.values():
            if record.merged_into and record.merged_into not in data.sf_changes:
                wanted.add(record.merged_into)
        unlinked = [r for r in data.mailbox_changes.values() if r.mailbox_id not in by_mailbox]
        for item in unlinked:
            if not item.gone and item.sf_id_marker and item.sf_id_marker not in data.sf_changes:
                wanted.add(item.sf_id_marker)
        self._read_by_ids(data, wanted - set(data.sf_changes) - self.gone.get(item_type, set()))
        if item_type == ItemType.EVENT and batch.invited_event_ids is not None:
            self._read_uninvited(data, batch, batch.invited_event_ids)

        if not full_sf:
            new_items = [r for r in unlinked if not r.gone and not r.sf_id_marker]
            self._match_candidates(data, new_items)
        data.scope_cursor = self._scope(data, full_sf)
        return data

    def _rows(self, item_type: ItemType, batch: ChangeBatch) -> Changes:
        return {
            ItemType.CONTACT: batch.contacts,
            ItemType.TASK: batch.tasks,
            ItemType.EVENT: batch.events,
        }[item_type]

    def _invitees(self, row: Mapping[str, Any], batch: ChangeBatch | None) -> frozenset[str]:
        if row.get("OwnerId") == self.me:
            return frozenset()
        if batch is not None:
            live = {r.get("EventId") for r in batch.invitations.records.values()}
            dropped = {r.get("EventId") for r in batch.invitations.deleted.values()} - live
            if row.get("Id") in dropped:
                return frozenset()
            if batch.invited_event_ids is not None and row.get("Id") not in batch.invited_event_ids:
                return frozenset()  # its invitation row went without a trace in queryAll
        return frozenset({self.me})

    def _sf(
        self, data: TypeInputs, row: Mapping[str, Any], batch: ChangeBatch | None = None
    ) -> SalesforceRecord:
        link = data.links.get(row["Id"])
        invitees = self._invitees(row, batch) if data.item_type == ItemType.EVENT else frozenset()
        return sf_record(
            data.item_type,
            row,
            previous=link.snapshot if link else None,
            invitee_ids=invitees,
        )

    def _salesforce_changes(self, data: TypeInputs, rows: Changes, batch: ChangeBatch) -> None:
        for row in [*rows.records.values(), *rows.deleted.values()]:
            data.sf_changes[row["Id"]] = self._sf(data, row, batch)

    def _read_uninvited(
        self, data: TypeInputs, batch: ChangeBatch, invited: frozenset[str]
    ) -> None:
        """Linked events the user was invited to and no longer is (listed invitations
        lack them): read them, so the planner sees the lost invitation, whether or not
        Salesforce reported the deleted EventRelation row (relation rows deleted directly
        may skip the Recycle Bin)."""
        lost = sorted(
            sf_id
            for sf_id, link in data.links.items()
            if link.sf_facts is not None
            and self.me in link.sf_facts.invitee_ids
            and sf_id not in invited
            and sf_id not in data.sf_changes
            and sf_id not in data.sf_current
        )
        if not lost:
            return
        found = self.sf.read_by_ids(SOBJECT[data.item_type], lost)
        for sf_id, row in found.items():
            data.sf_current[sf_id] = self._sf(data, row, batch)

    def _read_by_ids(self, data: TypeInputs, ids: Iterable[str]) -> None:
        ids = sorted(ids)
        if not ids:
            return
        for sf_id, row in self.sf.read_by_ids(SOBJECT[data.item_type], ids).items():
            data.sf_current[sf_id] = self._sf(data, row)
        for sf_id in ids:
            if sf_id not in data.sf_current:  # unknown here (purged, another org): gone
                data.sf_current[sf_id] = SalesforceRecord(
                    sf_id, data.item_type, {}, "", self.now, deleted=True
                )

    def _mailbox_changes(
        self, data: TypeInputs, changes: MailboxChanges, by_mailbox: Mapping[str, LinkState]
    ) -> None:
        item_type, codec = data.item_type, self.codec
        raw = {codec.item_id(item): item for item in changes.items}
        # The feed's items are handed over: from here `raw` holds each one once, and a
        # settled echo's JSON is freed as soon as its record is made (see `_keeps_raw`).
        changes.items = []
        removed = set(changes.removed_ids)
        # Named by version only: one still at the version of Relay's last write of it is
        # unchanged since (seen, nothing to plan); the rest are read like any other change.
        unchanged = {
            i
            for i, version in changes.versions_only.items()
            if version and i not in removed and _at_version(by_mailbox.get(i), version)
        }
        to_fetch = set(changes.versions_only) - unchanged - removed
        changes.versions_only = {}
        seen = raw.keys() | unchanged
        if codec.removed_may_be_alive(item_type):
            # Graph says "@removed" for an event that left the calendar window, too.
            to_fetch |= {i for i in removed if i in by_mailbox}
        if changes.full and by_mailbox:
            to_fetch |= set(by_mailbox) - seen  # unseen by a full read: confirm
        # Items we created after the cursor was taken: a Graph delta reports them as new,
        # but one created and deleted between two reads is never mentioned. Expected
        # echoes that did not come are confirmed by id.
        expected = json.loads(self.cursors.get(echo_feed(self.kind, item_type)) or "[]")
        expected += sorted(self.confirm.get(item_type, ()))
        to_fetch |= {i for i in expected if i in by_mailbox and i not in seen and i not in removed}
        if codec.needs_fetch_for_marker(item_type):
            to_fetch |= {
                i
                for i, item in raw.items()
                if i not in by_mailbox and codec.marked(item_type, item)
            }
        fetched = self.mailbox.fetch(ROLE[item_type], sorted(to_fetch)) if to_fetch else {}
        for item_id, item in fetched.items():
            if item is None:
                raw.pop(item_id, None)
                removed.add(item_id)
            else:
                raw[item_id] = item
                removed.discard(item_id)
        for item_id in removed:
            if item_id not in raw:
                data.mailbox_changes[item_id] = codec.tombstone(item_type, item_id, self.now)
        settled = self._settled_sf_ids(data, by_mailbox)
        for item_id in list(raw):
            item = raw.pop(item_id)
            link = by_mailbox.get(item_id)
            record = codec.record(item_type, item, link.snapshot if link else None)
            data.mailbox_changes[item_id] = record
            if link is None or not self._echo(record, link, settled):
                data.raw_items[item_id] = item

    def _settled_sf_ids(
        self, data: TypeInputs, by_mailbox: Mapping[str, LinkState]
    ) -> frozenset[str]:
        """The linked Salesforce ids of a lean type that nothing on the Salesforce side can
        send down this session: in sync (a known hash, no pending change), not in the
        feed, not found gone, not a merge master, not named by an unsettled write's marker.
        A big book's next session reads back 50,000 echoes of these; their raw JSON is
        what nobody reads again (the executor fetches an unread item it must build on)."""
        if data.item_type not in LEAN_TYPES:
            return frozenset()
        busy = set(data.sf_changes) | self.gone.get(data.item_type, set())
        busy |= {r.merged_into for r in data.sf_changes.values() if r.merged_into}
        confirm = self.confirm.get(data.item_type, set())
        return frozenset(
            link.sf_id
            for link in by_mailbox.values()
            if link.state == LinkStatus.LINKED
            and link.sf_hash is not None
            and not link.sf_pending
            and link.sf_id not in busy
            and link.mailbox_id not in confirm
        )

    @staticmethod
    def _echo(record: MailboxRecord, link: LinkState, settled: frozenset[str]) -> bool:
        """The item is as the link last saw it and its record has nothing to send down: the
        planner does nothing with it, so only its record is kept."""
        return (
            link.sf_id in settled
            and not record.gone
            and record.sf_id_marker in (None, link.sf_id)
            and link.mailbox_hash is not None
            and record.content_hash == link.mailbox_hash
        )

    def _match_candidates(self, data: TypeInputs, items: list[MailboxRecord]) -> None:
        """Unlinked Salesforce records that a new mailbox item may be a copy of."""
        if not items:
            return
        if data.item_type == ItemType.CONTACT:
            values = sorted({str(i.fields["email"]) for i in items if i.fields.get("email")})
            column, extra = "Email", []
        else:
            values = sorted({str(i.fields["subject"]) for i in items if i.fields.get("subject")})
            column, extra = "Subject", [f"OwnerId = '{self.me}'"]
        sobject = SOBJECT[data.item_type]
        for start in range(0, len(values), MATCH_CHUNK):
            chunk = ", ".join(soql_string(v) for v in values[start : start + MATCH_CHUNK])
            for row in self.sf.read_where(sobject, [f"{column} IN ({chunk})", *extra]):
                if row["Id"] not in data.links and row["Id"] not in data.sf_changes:
                    data.sf_current[row["Id"]] = self._sf(data, row)

    def quiet(
        self,
        item_type: ItemType,
        batch: ChangeBatch,
        changes: MailboxChanges,
        *,
        unlinked: bool = False,
    ) -> bool:
        """Nothing can happen to this type this session: no change on either side, no
        full read, no echo to confirm, no scope re-read due, no view problem to report.
        (The caller also checks that no link waits for a Salesforce change to go down.)
        The idle path then skips loading and planning the type's links altogether, which
        a session without changes would otherwise do for every link, every 30 minutes."""
        if self._rows(item_type, batch) or (item_type == ItemType.EVENT and batch.invitations):
            return False
        if item_type == ItemType.EVENT and batch.invited_event_ids is not None:
            return False  # a child copy changed: an invitation may be gone (see above)
        if self.gone.get(item_type):
            return False
        if batch.merged and item_type == ItemType.CONTACT:
            return False
        # A full read of the main object is a reconciliation. EventRelation stays "full"
        # for a user never invited (no row ever sets its cursor); empty, it changes nothing.
        # So does Task / Event for a user who has none: no row sets the cursor, every read
        # is full. `unlinked` (no link of the type) makes such an empty full read quiet.
        if SF_OBJECTS_OF[item_type][0] in batch.full and not unlinked:
            return False
        if changes.items or changes.versions_only or changes.removed_ids or changes.full:
            return False
        if json.loads(self.cursors.get(echo_feed(self.kind, item_type)) or "[]"):
            return False
        if item_type == ItemType.CONTACT and self.rules.contact_view_missing:
            return False  # the planner reports the missing view every session
        return not self._scope_read_due(item_type)

    def scope_read_due(self, item_type: ItemType) -> bool:
        """Whether this session reads the type's scope (as `inputs` will)."""
        return self._scope_read_due(item_type)

    def _scope_read_due(self, item_type: ItemType) -> bool:
        if not self.rules.down_allowed(item_type):
            stored: dict[str, str] = json.loads(self.cursors.get(f"scope:{item_type}") or "{}")
            return stored.get("fp") != "off"
        today = local_date(self.now, self.rules.zone).isoformat()
        stored = json.loads(self.cursors.get(f"scope:{item_type}") or "{}")
        daily = item_type == ItemType.EVENT or (
            item_type == ItemType.CONTACT and self.rules.view_member_ids is not None
        )
        return not (
            stored.get("fp") == self.fingerprints[item_type]
            and (not daily or stored.get("day") == today)
        )

    def _scope(self, data: TypeInputs, full_sf: bool) -> dict[str, Any]:
        """Read the type's scope when it may hold unlinked records the feed cannot show."""
        item_type = data.item_type
        today = local_date(self.now, self.rules.zone).isoformat()
        current = {"fp": self.fingerprints[item_type], "day": today}
        if full_sf or not self.rules.down_allowed(item_type):
            # Switched off (or view missing): remember it, so switching on reads the scope.
            return current if full_sf else {**current, "fp": "off"}
        if not self._scope_read_due(item_type):
            return current
        for row in self._scope_rows(item_type):
            if row["Id"] not in data.links and row["Id"] not in data.sf_changes:
                data.sf_current[row["Id"]] = self._sf(data, row)
        return current

    def _scope_rows(self, item_type: ItemType) -> list[dict[str, Any]]:
        me = self.me
        if item_type == ItemType.TASK:
            return self.sf.read_where("Task", [f"OwnerId = '{me}'", NOT_EMAIL_TASK])
        if item_type == ItemType.CONTACT:
            scope = self.rules.contact_scope
            if scope == "all":
                return self.sf.read_where("Contact", [])
            if scope == "mine":
                return self.sf.read_where("Contact", [f"OwnerId = '{me}'"])
            ids = sorted(self.rules.view_member_ids or ())
            return list(self.sf.read_by_ids("Contact", ids, include_deleted=False).values())
        lo = soql_datetime(self.now - EVENT_LOOKBACK - dt.timedelta(days=1))
        hi = soql_datetime(self.now + EVENT_LOOKAHEAD + dt.timedelta(days=1))
        window = [f"EndDateTime >= {lo}", f"StartDateTime <= {hi}"]
        rows = self.sf.read_where("Event", [f"OwnerId = '{me}'", *window])
        invited = self.sf.read_where("EventRelation", [f"RelationId = '{me}'", "IsInvitee = true"])
        ids = sorted({r["EventId"] for r in invited} - {r["Id"] for r in rows})
        if ids:
            found = self.sf.read_by_ids("Event", ids, include_deleted=False)
            rows += [r for r in found.values() if not r.get("IsChild")]
        return rows


def _at_version(link: LinkState | None, version: str) -> bool:
    """The linked item is at the version Relay's last write of it returned."""
    return link is not None and link.mailbox_version == version


def echo_feed(kind: str, item_type: ItemType) -> str:
    """The SyncCursor holding the mailbox ids the last session created (see above)."""
    return f"echo:{kind}:{ROLE[item_type]}"


def mailbox_feed(kind: str, item_type: ItemType) -> str:
    """The SyncCursor name of a mailbox feed (by kind: a new mailbox starts afresh)."""
    return f"{kind}:{ROLE[item_type]}"


def sf_cursor_values(batch: ChangeBatch, item_type: ItemType) -> dict[str, str]:
    return {
        f"salesforce:{o}": json.dumps(batch.cursors[o].to_json()) for o in SF_OBJECTS_OF[item_type]
    }
