"""Apply one type's Plan through the adapters, in batches, each link written right after
the write that produced it (tests/syncengine/planner/memory.py is the reference).

Hashes stored on a link after a write: the written mailbox side's hash is that of the item
as the API returned it (mapper applied); the written Salesforce side's is that of the
payload mapped back (what Salesforce holds: a contact's company, which Salesforce links by
Account, is absent there as in the echo). The other side keeps the hash the action carries.

Each link write is its own small transaction (`write_link`), and the links of one window
of mailbox creates one transaction with the drop of their write intents: a crash after a
side write and before its link leaves an item carrying our marker (or matching by key),
which the next session links instead of duplicating.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import groupby
from typing import Any, Protocol, TypeVar

from django.db import transaction
from django.db.models import F

from accounts.models import User

from . import intents
from .explain import SPARED_CHANGE, SPARED_DELETE
from .faults import AFTER_LINK, AFTER_MARKER, AFTER_WRITE, BEFORE_WRITE, fault_point
from .intents import Sent
from .link_store import encode_facts, encode_fields, write_link
from .mailboxes.base import ContainerRef, MailboxAdapter, MailboxCodec, WriteResult
from .meeting_relations import mark_recreated
from .models import SyncLink, SyncLogEntry, SyncSession, WriteIntent
from .pipeline import pipelined, windows
from .planner import (
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
    Origin,
    Plan,
    RefreshLink,
    Relink,
    RestoreMailbox,
    SalesforceFacts,
    Side,
    Skip,
    Unfreeze,
    UpdateMailbox,
    UpdateSalesforce,
    content_hash,
)
from .planner.actions import EXECUTION_STAGES, stage_of
from .records_io import ROLE, SOBJECT, sf_payload, sf_written
from .salesforce.adapter import SalesforceAdapter
from .salesforce.types import WriteResult as SfWriteResult
from .salesforce.writes import LOCKED

DOWN, UP = "down", "up"
IN_QUERY = 500  # ids per `IN (…)` lookup
# Actions of one kind handed to a write at a time: a multiple of every batch size (Graph 20,
# People 200, EWS 100, Salesforce 200), so slicing adds no call.
WRITE_SLICE = 1000
COUNTER_KEYS = ("created", "updated", "deleted", "restored", "skipped", "conflicts", "errors")


class Outcome(Protocol):
    """One write's result, from either side (mailbox or Salesforce WriteResult)."""

    @property
    def ok(self) -> bool: ...


_Action = TypeVar("_Action")
_Result = TypeVar("_Result", bound=Outcome)


def _refused(result: Outcome) -> bool:
    return not result.ok


def _updated(_: object) -> str:
    return "updated"


def _deleted(_: object) -> str:
    return "deleted"


def _refused_unless_gone(result: SfWriteResult) -> bool:
    """A deletion of a record already gone from Salesforce did what it was asked."""
    return not result.ok and not result.gone


def _pair_ids(
    a: UpdateMailbox | UpdateSalesforce | LinkPair | DeleteMailbox | DeleteSalesforce,
) -> tuple[str, str]:
    return a.sf_id or "", a.mailbox_id


# What writes to Salesforce (a pair's record is brought up to date in `_link_pairs`).
SALESFORCE_WRITES = (CreateSalesforce, UpdateSalesforce, DeleteSalesforce, LinkPair)


def writes_salesforce(plan: Plan) -> bool:
    """Whether running `plan` may write to Salesforce (a later type may look it up)."""
    return any(isinstance(a, SALESFORCE_WRITES) for a in plan.actions)


def drop_link(
    user: User, item_type: ItemType, *, sf_id: str | None = None, mailbox_id: str | None = None
) -> None:
    rows = SyncLink.objects.filter(user=user, item_type=item_type)
    if sf_id is not None:
        rows = rows.filter(sf_id=sf_id)
    if mailbox_id is not None:
        rows = rows.filter(mailbox_id=mailbox_id)
    rows.delete()


@dataclass
class Counters:
    data: dict[str, dict[str, dict[str, int]]] = field(default_factory=dict)

    def add(self, item_type: ItemType, direction: str, key: str, n: int = 1) -> None:
        per_type = self.data.setdefault(str(item_type), {})
        per_dir = per_type.setdefault(direction, dict.fromkeys(COUNTER_KEYS, 0))
        per_dir[key] += n


@dataclass
class Executor:
    user: User
    session: SyncSession
    item_type: ItemType
    sf: SalesforceAdapter
    mailbox: MailboxAdapter
    codec: MailboxCodec
    containers: Mapping[str, ContainerRef]
    links: Mapping[str, LinkState]
    raw_items: dict[str, dict[str, Any]]
    me: str
    now: dt.datetime
    counters: Counters
    changed: bool = False
    held: bool = False
    created_mailbox_ids: list[str] = field(default_factory=list)
    updated_mailbox_ids: set[str] = field(default_factory=set)  # read again to build on them
    # Salesforce ids whose record or mailbox copy this session recreated (an edit beat a
    # deletion, or a restore): their "In Salesforce:" block settles in this session.
    recreated_sf_ids: set[str] = field(default_factory=set)
    item_errors: int = 0
    # Salesforce records refused UNABLE_TO_LOCK_ROW (another transaction held a row they
    # lock, even after one more try): a refusal that heals by itself, unlike the others.
    locked: int = 0
    # Renews the user's lease between batches; raises LeaseLost when another worker has it.
    check_lease: Callable[[], None] | None = None

    def __post_init__(self) -> None:
        self.raw_items = dict(self.raw_items)  # grows with items fetched before updates

    @property
    def role(self) -> str:
        return ROLE[self.item_type]

    @property
    def sobject(self) -> str:
        return SOBJECT[self.item_type]

    def run(self, plan: Plan) -> None:
        for problem in plan.problems:
            self.log(SyncLogEntry.Kind.PROBLEM, problem)
        handlers = self._handlers()
        for stage, group in groupby(plan.actions, key=stage_of):
            by_kind: dict[type, list[Any]] = defaultdict(list)
            for action in group:
                by_kind[type(action)].append(action)
            for kind in EXECUTION_STAGES[stage]:
                actions = by_kind.get(kind) or []
                # In slices, so a big book's payloads and answers are not all held at once.
                for start in range(0, len(actions), WRITE_SLICE):
                    if self.check_lease is not None:
                        self.check_lease()
                    handlers[kind](actions[start : start + WRITE_SLICE])

    def _handlers(self) -> dict[type, Callable[[list[Any]], None]]:
        return {
            RefreshLink: self._refresh,
            Relink: self._relink,
            Forget: self._forget,
            Unfreeze: lambda acts: self._set_state(acts, SyncLink.State.LINKED),
            LinkPair: self._link_pairs,
            UpdateSalesforce: self._update_salesforce,
            UpdateMailbox: self._update_mailbox,
            Conflict: self._conflicts,
            RestoreMailbox: self._create_mailbox,
            CreateMailbox: self._create_mailbox,
            CreateSalesforce: self._create_salesforce,
            Freeze: lambda acts: self._set_state(acts, SyncLink.State.FROZEN),
            DeleteMailbox: self._delete_mailbox,
            DeleteSalesforce: self._delete_salesforce,
            HoldDeletions: self._hold,
            Skip: self._skips,
        }

    # -- bookkeeping -------------------------------------------------------------------------

    def log(self, kind: str, message: str, **values: Any) -> None:
        SyncLogEntry.objects.create(
            session=self.session,
            user=self.user,
            item_type=str(self.item_type),
            kind=kind,
            message=message[:2000],
            **values,
        )

    def item_error(
        self, direction: str, result: Outcome, sf_id: str = "", mailbox_id: str = ""
    ) -> None:
        message = getattr(result, "message", None) or getattr(result, "error", "") or "failed"
        code = getattr(result, "error_code", None) or getattr(result, "status", "")
        self.item_errors += 1
        if direction == UP and code == LOCKED:
            self.locked += 1  # transient: the session has this type's changes read again
        self.counters.add(self.item_type, direction, "errors")
        side = Side.MAILBOX if direction == DOWN else Side.SALESFORCE
        self.log(
            SyncLogEntry.Kind.ITEM_ERROR,
            f"{side} refused the write: {message}",
            side=str(side),
            sf_id=sf_id or "",
            mailbox_id=mailbox_id or "",
            payload={"code": str(code), "message": str(message)},
        )
        rows = SyncLink.objects.filter(user=self.user, item_type=self.item_type)
        rows = rows.filter(sf_id=sf_id) if sf_id else rows.filter(mailbox_id=mailbox_id)
        rows.update(error_count=F("error_count") + 1, last_error=str(message)[:2000])

    def _written(
        self,
        direction: str,
        actions: Sequence[_Action],
        results: Sequence[_Result],
        ids: Callable[[_Action], tuple[str, str]],
        counter: Callable[[_Action], str],
        refused: Callable[[_Result], bool] = _refused,
        on_refused: Callable[[int], None] | None = None,
    ) -> Iterator[tuple[int, _Action, _Result]]:
        """The one result loop of every write: a refused write is an item error (counted,
        logged, noted on its link) after `on_refused(index)`; an accepted one marks the run
        changed, is counted under `counter(action)` and is yielded with its index."""
        for i, (a, result) in enumerate(zip(actions, results, strict=True)):
            if refused(result):
                if on_refused is not None:
                    on_refused(i)
                sf_id, mailbox_id = ids(a)
                self.item_error(direction, result, sf_id, mailbox_id)
                continue
            self.changed = True
            self.counters.add(self.item_type, direction, counter(a))
            yield i, a, result

    def _readback_hash(self, result: WriteResult, fields: Mapping[str, Any]) -> str:
        if result.item:
            try:
                return self.codec.record(self.item_type, result.item, fields).content_hash
            except (KeyError, TypeError, ValueError):
                pass
        return content_hash(fields)

    def _facts_after_sf_write(
        self, sf_id: str, fields: Mapping[str, Any], base: SalesforceFacts | None
    ) -> tuple[str, SalesforceFacts]:
        owner = base.owner_id if base else self.me
        invitees = base.invitee_ids if base else frozenset()
        record = sf_written(
            self.item_type, sf_id, fields, owner_id=owner, now=self.now, invitee_ids=invitees
        )
        return record.content_hash, record.facts

    def _link_values(self, **values: Any) -> dict[str, Any]:
        if "snapshot" in values:
            values["snapshot"] = encode_fields(values["snapshot"])
        if "sf_facts" in values:
            values["sf_facts"] = encode_facts(values["sf_facts"])
        for key in ("sf_hash", "mailbox_hash"):
            if key in values and values[key] is None:
                values[key] = ""
        values.setdefault("last_synced_at", self.now)
        return values

    def save(self, sf_id: str, **values: Any) -> None:
        values.setdefault("error_count", 0)
        values.setdefault("last_error", "")
        write_link(self.user, self.item_type, sf_id, **self._link_values(**values))

    def _fault(self, boundary: str, write: str, index: int = 0) -> None:
        fault_point(boundary, str(self.item_type), write, index)

    # -- link-only actions -----------------------------------------------------------------

    def _refresh(self, actions: list[RefreshLink]) -> None:
        for a in actions:
            values: dict[str, Any] = {}
            if a.sf_hash:
                values["sf_hash"] = a.sf_hash
            if a.mailbox_hash:
                values["mailbox_hash"] = a.mailbox_hash
            if a.sf_facts:
                values["sf_facts"] = encode_facts(a.sf_facts)
            SyncLink.objects.filter(user=self.user, item_type=self.item_type, sf_id=a.sf_id).update(
                **values
            )

    def _relink(self, actions: list[Relink]) -> None:
        for a in actions:
            SyncLink.objects.filter(
                user=self.user, item_type=self.item_type, sf_id=a.old_sf_id
            ).update(sf_id=a.new_sf_id, sf_hash="")

    def _forget(self, actions: list[Forget]) -> None:
        for a in actions:
            drop_link(self.user, self.item_type, sf_id=a.sf_id, mailbox_id=a.mailbox_id)

    def _set_state(self, actions: Sequence[Freeze | Unfreeze], state: str) -> None:
        ids = [a.sf_id for a in actions]
        SyncLink.objects.filter(user=self.user, item_type=self.item_type, sf_id__in=ids).update(
            state=state
        )

    def _conflicts(self, actions: list[Conflict]) -> None:
        for a in actions:
            direction = DOWN if a.winner == Side.SALESFORCE else UP
            self.counters.add(self.item_type, direction, "conflicts")
            loser = Side.MAILBOX if a.winner == Side.SALESFORCE else Side.SALESFORCE
            self.log(
                SyncLogEntry.Kind.CONFLICT,
                f"Both sides changed; {a.winner} was newer and won, the {loser} version lost.",
                side=str(loser),
                sf_id=a.sf_id,
                mailbox_id=a.mailbox_id,
                payload={"winner": str(a.winner), "loser_fields": encode_fields(a.loser_fields)},
            )

    def _skips(self, actions: list[Skip]) -> None:
        self.counters.add(self.item_type, DOWN, "skipped", len(actions))

    def _hold(self, actions: list[HoldDeletions]) -> None:
        self.held = True
        for hold in actions:
            for d in hold.deletions:
                SyncLink.objects.filter(
                    user=self.user, item_type=self.item_type, sf_id=d.sf_id
                ).update(
                    state=SyncLink.State.HELD_DELETION, held_side=str(hold.side), held_decision=""
                )
                self.log(
                    SyncLogEntry.Kind.HELD_DELETION,
                    f"Deletion in {hold.side} held for confirmation: {d.reason}",
                    side=str(hold.side),
                    sf_id=d.sf_id or "",
                    mailbox_id=d.mailbox_id,
                    payload={"reason": d.reason, "brake": hold.reason},
                )

    # -- mailbox writes --------------------------------------------------------------------

    def _mailbox_update(self, changes: list[tuple[str, dict[str, Any]]]) -> list[WriteResult]:
        return self.mailbox.update(self.role, changes) if changes else []

    def write_markers(self, items: list[tuple[str, str, Mapping[str, Any]]]) -> None:
        """Store the Salesforce id on mailbox items (mailbox id, sf id, fields)."""
        changes = []
        for mailbox_id, sf_id, fields in items:
            existing = self.raw_items.get(mailbox_id)
            payload = self.codec.marker_payload(self.item_type, fields, sf_id, existing)
            if payload is not None:
                changes.append((mailbox_id, payload))
        for (mailbox_id, _), result in zip(changes, self._mailbox_update(changes), strict=True):
            if result.ok and result.item and mailbox_id in self.raw_items:
                # A later update this session builds on the item as it is now (its etag).
                self.raw_items[mailbox_id] = result.item
            if not result.ok:
                self.log(
                    SyncLogEntry.Kind.ITEM_ERROR,
                    f"Could not store the Salesforce id on the item: {result.error}",
                    side=str(Side.MAILBOX),
                    mailbox_id=mailbox_id,
                )

    def _needs_current(self, sf_id: str, fields: Mapping[str, Any]) -> bool:
        """Whether updating an unread item must read it first (the kind's codec knows)."""
        link = self.links.get(sf_id)
        before = link.snapshot if link else {}
        return self.codec.update_needs_current(self.item_type, fields, before)

    def _update_payloads(
        self, items: Sequence[tuple[str, str, Mapping[str, Any]]]
    ) -> list[tuple[str, dict[str, Any]]]:
        """(mailbox id, payload) for updates of (mailbox id, sf id, fields): the payload is
        built over the current item, so what the user added that Relay does not map
        survives; items this session did not read are fetched first (one batched read)
        when the payload would otherwise replace such extras."""
        wanted = [
            m
            for m, sf_id, fields in items
            if m not in self.raw_items and self._needs_current(sf_id, fields)
        ]
        if wanted:
            for item_id, item in self.mailbox.fetch(self.role, wanted).items():
                if item is not None:
                    self.raw_items[item_id] = item
        out = []
        for mailbox_id, sf_id, fields in items:
            existing = self.raw_items.get(mailbox_id)
            payload = self.codec.payload(self.item_type, fields, sf_id, existing)
            if existing is None:
                # What the API keeps when not sent (Graph PATCH): the user's extras survive.
                for key in self.codec.kept_unread(self.item_type):
                    payload.pop(key, None)
            out.append((mailbox_id, payload))
        return out

    # -- writes the mailbox would announce to other people (SPEC §2b) --------------------

    def notified_by(self, mailbox_ids: Sequence[str]) -> dict[str, int]:
        """Mailbox id -> how many people a write to that item would message (only items
        where that is more than 0). The kind's codec says it from the item read this
        session, else from what the link learnt when it was last read (``notifies``)."""
        if not mailbox_ids or not self.codec.may_notify(self.item_type):
            return {}
        out = {}
        unread = []
        for mailbox_id in mailbox_ids:
            item = self.raw_items.get(mailbox_id)
            if item is None:
                unread.append(mailbox_id)
            elif n := self.codec.notified_by_write(self.item_type, item):
                out[mailbox_id] = n
        if unread:
            rows = SyncLink.objects.filter(
                user=self.user, item_type=self.item_type, mailbox_id__in=unread
            ).values_list("mailbox_id", "relations")
            for mailbox_id, relations in rows:
                if n := int((relations or {}).get("notifies") or 0):
                    out[mailbox_id] = n
        return out

    def spare(self, sf_id: str, mailbox_id: str, people: int, *, deleted: bool) -> None:
        """A Salesforce change Relay does not write, because the mailbox would email
        ``people`` attendees about it: logged for the user (the ledger's reason)."""
        self.counters.add(self.item_type, DOWN, "skipped")
        what = "deleted in Salesforce" if deleted else "changed in Salesforce"
        self.log(
            SyncLogEntry.Kind.PROBLEM,
            f"A meeting you organize was {what} and not {'deleted' if deleted else 'changed'}"
            f" in your calendar: it would have emailed its {people} attendee"
            f"{'' if people == 1 else 's'}. Change it in your calendar instead.",
            side=str(Side.MAILBOX),
            sf_id=sf_id,
            mailbox_id=mailbox_id,
            payload={"code": SPARED_DELETE if deleted else SPARED_CHANGE, "people": people},
        )

    def _spare_updates(self, actions: Sequence[Any]) -> list[Any]:
        """The updates to write; the others only record that Salesforce's version was seen
        (so it is not retried, and a later mailbox edit goes up as usual)."""
        notified = self.notified_by([a.mailbox_id for a in actions])
        if not notified:
            return list(actions)
        for a in actions:
            if a.mailbox_id in notified:
                self.spare(a.sf_id, a.mailbox_id, notified[a.mailbox_id], deleted=False)
                values: dict[str, Any] = {"sf_hash": a.sf_hash, "sf_facts": a.sf_facts}
                if isinstance(a, LinkPair):
                    values.update(
                        mailbox_id=a.mailbox_id,
                        mailbox_hash=a.mailbox_hash,
                        snapshot=a.fields,
                        origin=a.origin,
                        state=SyncLink.State.LINKED,
                    )
                self.save(a.sf_id, **values)
        return [a for a in actions if a.mailbox_id not in notified]

    def _update_mailbox(self, actions: list[UpdateMailbox]) -> None:
        actions = self._spare_updates(actions)
        changes = self._update_payloads([(a.mailbox_id, a.sf_id, a.fields) for a in actions])
        results = self._mailbox_update(changes)
        for _, a, result in self._written(DOWN, actions, results, _pair_ids, _updated):
            self.updated_mailbox_ids.add(a.mailbox_id)
            self.save(
                a.sf_id,
                mailbox_id=a.mailbox_id,
                sf_hash=a.sf_hash,
                mailbox_hash=self._readback_hash(result, a.fields),
                mailbox_version=result.version[:256],
                snapshot=a.fields,
                sf_facts=a.sf_facts,
            )

    def _create_mailbox(self, actions: list[CreateMailbox | RestoreMailbox]) -> None:
        """In windows (the adapter's `write_window`): window k+1 is sent while the links of
        window k are written (syncengine.pipeline)."""
        size = self.mailbox.write_window(self.role)
        offsets = {id(a): i for i, a in enumerate(actions)}

        Prepared = tuple[list[dict[str, Any]], list[WriteIntent]]

        def prepare(chunk: Sequence[CreateMailbox | RestoreMailbox]) -> Prepared:
            if offsets[id(chunk[0])] and self.check_lease is not None:
                self.check_lease()  # a first sync's creates take minutes: renew between windows
            payloads = [
                self.codec.payload(self.item_type, a.fields, a.sf_id, None, create=True)
                for a in chunk
            ]
            # The payload carries the marker, so an item created by a call whose outcome is
            # unknown is paired by it next session; the intent says such a call happened.
            sent = [Sent(a.sf_id, a.fields, "", a.sf_hash, Origin.SALESFORCE) for a in chunk]
            pending = intents.record(
                self.user, self.item_type, WriteIntent.Target.MAILBOX, sent, self.now
            )
            self._fault(BEFORE_WRITE, "create_mailbox", offsets[id(chunk[0])])
            return payloads, pending

        def send(_: Sequence[CreateMailbox | RestoreMailbox], prepared: Prepared) -> list[Any]:
            return self.mailbox.create(self.role, prepared[0], self.containers)

        def apply(
            chunk: Sequence[CreateMailbox | RestoreMailbox],
            prepared: Prepared,
            results: list[WriteResult],
        ) -> None:
            self._fault(AFTER_WRITE, "create_mailbox", offsets[id(chunk[0])])
            self._linked_creates(chunk, prepared[1], results, offsets[id(chunk[0])])

        pipelined(windows(actions, size), prepare, send, apply)
        self._fault(AFTER_MARKER, "create_mailbox")  # the marker rode the create

    def _linked_creates(
        self,
        actions: Sequence[CreateMailbox | RestoreMailbox],
        pending: list[WriteIntent],
        results: list[WriteResult],
        offset: int,
    ) -> None:
        """The links of one window of mailbox creates, right after its write: written with
        the drop of their intents in one transaction (a crash before it commits leaves the
        intents, and the next session links the items by their marker)."""
        linked: list[tuple[int, str, dict[str, Any]]] = []
        recreated: list[str] = []
        for i, a, result in self._written(
            DOWN,
            actions,
            results,
            lambda a: (a.sf_id, ""),
            lambda a: "restored" if isinstance(a, RestoreMailbox) else "created",
            on_refused=lambda i: intents.drop([pending[i]]),  # refused: nothing was created
        ):
            self.created_mailbox_ids.append(result.id)
            restore = isinstance(a, RestoreMailbox)
            values: dict[str, Any] = {
                "mailbox_id": result.id,
                "sf_hash": a.sf_hash,
                "mailbox_hash": self._readback_hash(result, a.fields),
                "mailbox_version": result.version[:256],
                "snapshot": a.fields,
                "sf_facts": a.sf_facts,
                "state": SyncLink.State.LINKED,
            }
            if not restore or a.sf_id not in self.links:
                values["origin"] = Origin.SALESFORCE
            if restore:
                self.recreated_sf_ids.add(a.sf_id)
            if restore and self.item_type == ItemType.EVENT:
                recreated.append(a.sf_id)
            linked.append((i, a.sf_id, values))
        if not linked:
            return
        with transaction.atomic():
            self._save_many([(sf_id, values) for _, sf_id, values in linked])
            if recreated:  # with the links: crash-safe
                mark_recreated(self.user, recreated)
            intents.drop([pending[i] for i, _, _ in linked])
        for i, _, _ in linked:
            self._fault(AFTER_LINK, "create_mailbox", offset + i)

    def _save_many(self, rows: Sequence[tuple[str, dict[str, Any]]]) -> None:
        """`save` for many links at once: new ones in one bulk insert (a first sync writes
        thousands; one query each was most of its CPU), existing ones one by one."""
        ids = [sf_id for sf_id, _ in rows]
        mine = SyncLink.objects.filter(user=self.user, item_type=self.item_type)
        existing: set[str] = set()
        for start in range(0, len(ids), IN_QUERY):
            chunk = ids[start : start + IN_QUERY]
            existing.update(mine.filter(sf_id__in=chunk).values_list("sf_id", flat=True))
        fresh = []
        for sf_id, values in rows:
            if sf_id in existing:
                self.save(sf_id, **values)
                continue
            values = self._link_values(**values)
            values.setdefault("error_count", 0)
            values.setdefault("last_error", "")
            fresh.append(SyncLink(user=self.user, item_type=self.item_type, sf_id=sf_id, **values))
        SyncLink.objects.bulk_create(fresh)

    def _delete_mailbox(self, actions: list[DeleteMailbox]) -> None:
        notified = self.notified_by([a.mailbox_id for a in actions])
        for a in actions:
            if a.mailbox_id in notified:
                # Kept in the mailbox, unlinked (docs/decisions.md, "Meetings you organize").
                self.spare(a.sf_id or "", a.mailbox_id, notified[a.mailbox_id], deleted=True)
                drop_link(self.user, self.item_type, mailbox_id=a.mailbox_id)
        actions = [a for a in actions if a.mailbox_id not in notified]
        results = self.mailbox.delete(self.role, [a.mailbox_id for a in actions])
        for _, a, _ in self._written(DOWN, actions, results, _pair_ids, _deleted):
            drop_link(self.user, self.item_type, mailbox_id=a.mailbox_id)

    # -- Salesforce writes -----------------------------------------------------------------

    def _update_salesforce(self, actions: list[UpdateSalesforce]) -> None:
        records = [{"Id": a.sf_id, **sf_payload(self.item_type, a.fields)} for a in actions]
        results = self.sf.update(self.sobject, records) if records else []
        for _, a, _ in self._written(UP, actions, results, _pair_ids, _updated):
            link = self.links.get(a.sf_id)
            sf_hash, facts = self._facts_after_sf_write(
                a.sf_id, a.fields, link.sf_facts if link else None
            )
            self.save(
                a.sf_id,
                mailbox_id=a.mailbox_id,
                sf_hash=sf_hash,
                mailbox_hash=a.mailbox_hash,
                snapshot=a.fields,
                sf_facts=facts,
            )

    def _create_salesforce(self, actions: list[CreateSalesforce]) -> None:
        records = [sf_payload(self.item_type, a.fields) for a in actions]
        sent = []
        for a in actions:
            old = self.links.get(a.replaces_sf_id or "")
            # A contact recreated from the mailbox copy (an edit beat its deletion) counts
            # from then on as one the user created there: it stays linked whatever the
            # scope (SPEC §3, docs/decisions.md). Events keep theirs (blocks read it).
            kept = old is not None and self.item_type != ItemType.CONTACT
            origin = old.origin if old and kept else Origin.MAILBOX
            sent_hash, _ = self._facts_after_sf_write("", a.fields, None)
            sent.append(
                Sent(
                    a.mailbox_id,
                    a.fields,
                    sent_hash,
                    a.mailbox_hash,
                    origin,
                    a.replaces_sf_id or "",
                )
            )
        target = WriteIntent.Target.SALESFORCE
        pending = intents.record(self.user, self.item_type, target, sent, self.now)
        self._fault(BEFORE_WRITE, "create_salesforce")
        results = self.sf.create(self.sobject, records)
        self._fault(AFTER_WRITE, "create_salesforce")
        markers, linked = [], []
        for i, a, result in self._written(
            UP,
            actions,
            results,
            lambda a: (a.replaces_sf_id or "", a.mailbox_id),
            lambda a: "restored" if a.replaces_sf_id else "created",
            refused=lambda result: not result.ok or not result.id,
            on_refused=lambda i: intents.drop([pending[i]]),  # refused: nothing was created
        ):
            s, intent = sent[i], pending[i]
            assert result.id  # refused above when Salesforce gave no id
            sf_hash, facts = self._facts_after_sf_write(result.id, a.fields, None)
            with transaction.atomic():
                self.save(
                    result.id,
                    match_sf_id=a.replaces_sf_id,
                    mailbox_id=a.mailbox_id,
                    sf_hash=sf_hash,
                    mailbox_hash=a.mailbox_hash,
                    snapshot=a.fields,
                    sf_facts=facts,
                    origin=s.origin,
                    state=SyncLink.State.LINKED,
                )
                intents.mark_created(intent, result.id)  # only the marker is owed now
            self._fault(AFTER_LINK, "create_salesforce", i)
            if a.replaces_sf_id:
                self.recreated_sf_ids.add(result.id)
            markers.append((a.mailbox_id, result.id, a.fields))
            linked.append(intent)
        self.write_markers(markers)
        intents.drop(linked)
        self._fault(AFTER_MARKER, "create_salesforce")

    def _delete_salesforce(self, actions: list[DeleteSalesforce]) -> None:
        results = self.sf.delete([a.sf_id for a in actions])
        refused = _refused_unless_gone
        for _, a, _ in self._written(UP, actions, results, _pair_ids, _deleted, refused=refused):
            drop_link(self.user, self.item_type, sf_id=a.sf_id)

    # -- pairs -------------------------------------------------------------------------------

    def _link_pairs(self, actions: list[LinkPair]) -> None:
        to_mailbox = [a for a in actions if a.write_to == Side.MAILBOX]
        to_sf = [a for a in actions if a.write_to == Side.SALESFORCE]
        quiet = [a for a in actions if a.write_to is None]

        to_mailbox = self._spare_updates(to_mailbox)
        changes = self._update_payloads([(a.mailbox_id, a.sf_id, a.fields) for a in to_mailbox])
        results = self._mailbox_update(changes)
        for _, a, result in self._written(DOWN, to_mailbox, results, _pair_ids, _updated):
            self.updated_mailbox_ids.add(a.mailbox_id)
            self._save_pair(a, a.sf_hash, self._readback_hash(result, a.fields), a.sf_facts)

        records = [{"Id": a.sf_id, **sf_payload(self.item_type, a.fields)} for a in to_sf]
        sf_results = self.sf.update(self.sobject, records) if records else []
        markers = []
        for _, a, _ in self._written(UP, to_sf, sf_results, _pair_ids, _updated):
            sf_hash, facts = self._facts_after_sf_write(a.sf_id, a.fields, a.sf_facts)
            self._save_pair(a, sf_hash, a.mailbox_hash, facts)
            markers.append(a)

        for a in quiet:
            self._save_pair(a, a.sf_hash, a.mailbox_hash, a.sf_facts)
        markers += [a for a in quiet if a.matched_by != "marker"]
        self.write_markers([(a.mailbox_id, a.sf_id, a.fields) for a in markers])

    def _save_pair(self, a: LinkPair, sf_hash: str, mailbox_hash: str, facts: Any) -> None:
        self.save(
            a.sf_id,
            mailbox_id=a.mailbox_id,
            sf_hash=sf_hash,
            mailbox_hash=mailbox_hash,
            snapshot=a.fields,
            sf_facts=facts,
            origin=a.origin,
            state=SyncLink.State.LINKED,
        )
