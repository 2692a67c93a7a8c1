"""One sync session for one user: connections → containers → feeds → plan → execute →
cursors → the session record. The caller holds the user's lease (syncengine.scheduling).

    session = run_session(user, SyncSession.Trigger.SCHEDULE)

Outcomes (SyncSession.status):
- succeeded; partial (some items refused, logged as item_error, the rest applied);
- needs_confirmation (the mass-deletion brake held deletions: syncengine.held's
  confirm_held_deletions / discard_held_deletions);
- retry_later (TemporaryProviderError: 5xx, 429, REQUEST_LIMIT_EXCEEDED, timeouts):
  `retry_after_seconds` holds what the provider asked for. Cursors of types not finished
  stay where they were, so nothing is lost; links already written stay (their echoes are
  recognised by hash);
- failed: a connection is not active (no API call is made), ReconnectRequired (the
  connection is marked needs_reconnect), another ProviderError, or an unexpected error;
- abandoned: the `heartbeat` (called between item types and between execution batches)
  said another worker took the user's lease; the session stops with no further write.

A type's cursors advance only after that type's actions ran.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db.models import Count, F, Q
from django.db.models.fields.json import KT
from django.utils import timezone

from accounts.models import Connection, User
from accounts.providers.errors import ProviderError, ReconnectRequired, TemporaryProviderError
from accounts.providers.salesforce import SalesforceClient
from config import db_turns
from syncsettings.models import SyncSettings

from . import cursor_store, intents, lanes, mailboxes
from .email_session import EmailStep
from .executor import COUNTER_KEYS, DOWN, UP, Counters, Executor, writes_salesforce
from .issues import left_out_problem
from .lanes import run_lanes, wait_for
from .ledger import planned_writes, progress, record_org_usage, record_plan
from .link_store import (
    load_links,
)
from .mailboxes.base import (
    ContainerRef,
    MailboxAdapter,
    MailboxChanges,
    MailboxCodec,
    MailboxKind,
)
from .meeting_relations import adopt_shared_meetings, relate_meetings
from .models import (
    MailboxContainer,
    SyncCursor,
    SyncLink,
    SyncLogEntry,
    SyncSession,
)
from .people_blocks import refresh_blocks
from .planner import (
    ContactScope,
    ItemType,
    LinkState,
    SyncRules,
    plan,
)
from .planner.rules import local_date
from .reads import Reader, echo_feed, mailbox_feed, sf_cursor_values
from .records_io import ROLE
from .salesforce.adapter import SalesforceAdapter
from .salesforce.relations import OrgSettingCache
from .salesforce.types import ChangeBatch

logger = logging.getLogger(__name__)
BLOCK_TYPES = (ItemType.TASK, ItemType.EVENT)  # their copies show Salesforce's people
ITEM_TYPES = (ItemType.CONTACT, ItemType.TASK, ItemType.EVENT)
TIME_LIMIT_RETRY_S = 60  # a session stopped by its time limit goes on a minute later
LOCKED_RETRY_S = 60  # Salesforce holds row locks briefly: a minute later they are free


class SessionStop(Exception):
    """The session cannot start (a connection is missing or not active)."""


class LeaseLost(Exception):
    """The heartbeat failed: another worker holds the user's lease now."""


class SessionTimeLimit(Exception):
    """The session ran past its time limit (runs.time_limited): it stops at the next
    heartbeat like a crash would — links already written stay, cursors are not advanced,
    write intents heal what was in flight — and the next session goes on from there."""

    def __init__(self, limit_s: float) -> None:
        minutes = max(1, round(limit_s / 60))
        super().__init__(
            f"This session ran longer than its time limit ({minutes} min) and stopped; "
            "the next session goes on where it left off."
        )


@dataclass
class Stack:
    """What a session talks through."""

    sf_connection: Connection
    mailbox_connection: Connection
    settings: SyncSettings
    sf: SalesforceAdapter
    kind: MailboxKind
    mailbox: MailboxAdapter
    containers: dict[str, ContainerRef]
    codec: MailboxCodec

    @property
    def me(self) -> str:
        return self.sf_connection.external_account_id


def _connections(user: User) -> tuple[Connection, Connection]:
    by_side = {c.side: c for c in Connection.objects.filter(user=user)}  # one per side
    sf = by_side.get(Connection.Side.SALESFORCE)
    mailbox = by_side.get(Connection.Side.MAILBOX)
    for label, conn in (("Salesforce", sf), ("mailbox", mailbox)):
        if conn is None:
            raise SessionStop(f"No {label} connection: connect one to sync.")
        if not conn.is_active:
            raise SessionStop(
                f"The {conn.get_provider_display()} connection is {conn.get_status_display()}"
                ": reconnect it to sync."
            )
    assert sf is not None and mailbox is not None
    return sf, mailbox


def build_stack(user: User, now: dt.datetime | None = None) -> Stack:
    """Adapters for the user's connections, and the mailbox containers (found or created
    once; stored ids are trusted without a call)."""
    sf_conn, mb_conn = _connections(user)
    sync_settings = SyncSettings.for_user(user)
    tz = sync_settings.time_zone or "UTC"
    clock = (lambda: now) if now is not None else None

    sf_kwargs: dict[str, Any] = {"clock": clock} if clock else {}
    sf = SalesforceAdapter(
        SalesforceClient(sf_conn).call,
        sf_conn.external_account_id,
        settings.SALESFORCE_API_VERSION,
        write_concurrency=settings.SALESFORCE_WRITE_CONCURRENCY,
        **sf_kwargs,
    )
    kind = mailboxes.for_connection(mb_conn)  # the one place the kind is decided
    mailbox = kind.adapter(mb_conn, tz, clock)

    known = {
        c.role: c.external_id
        for c in MailboxContainer.objects.filter(user=user, provider=mb_conn.provider)
    }
    containers = mailbox.ensure_containers(known)
    store_containers(user, mb_conn.provider, containers, known)
    codec = kind.codec(tz, containers, sf_conn.instance_url)
    return Stack(sf_conn, mb_conn, sync_settings, sf, kind, mailbox, containers, codec)


def store_containers(
    user: User, provider: str, containers: dict[str, ContainerRef], known: dict[str, str]
) -> None:
    for role, ref in containers.items():
        if known.get(role) != ref.external_id:
            MailboxContainer.objects.update_or_create(
                user=user,
                provider=provider,
                role=role,
                defaults={"external_id": ref.external_id, "name": ref.name},
            )


def rules_for(stack: Stack, view_member_ids: frozenset[str] | None) -> SyncRules:
    s = stack.settings
    return SyncRules(
        user_sf_id=stack.me,
        down_enabled={
            ItemType.CONTACT: s.contacts_down_enabled,
            ItemType.TASK: s.tasks_down_enabled,
            ItemType.EVENT: s.events_down_enabled,
        },
        contact_scope=ContactScope(s.contact_scope),
        view_member_ids=view_member_ids,
        auto_remove={ItemType.CONTACT: s.auto_remove_contacts, ItemType.TASK: s.auto_remove_tasks},
        time_zone=s.time_zone or "UTC",
    )


def _fingerprints(s: SyncSettings) -> dict[ItemType, str]:
    view = s.contact_view_id if s.contact_scope == SyncSettings.ContactScope.VIEW else ""
    return {
        ItemType.CONTACT: f"{s.contact_scope}:{view}",
        ItemType.TASK: "on",
        ItemType.EVENT: "on",
    }


def _reconciled_ids(user: User) -> dict[ItemType, list[str]]:
    """Linked Salesforce ids a reconciliation checks (held deletions wait for the user)."""
    live = (SyncLink.State.LINKED, SyncLink.State.FROZEN)
    rows = SyncLink.objects.filter(user=user, state__in=live).exclude(sf_id="")
    out: dict[ItemType, list[str]] = {t: [] for t in ITEM_TYPES}
    for item_type, sf_id in rows.values_list("item_type", "sf_id"):
        out[ItemType(item_type)].append(sf_id)
    return out


def _store_cursors(user: User, values: dict[str, str], stored: dict[str, str]) -> None:
    """Upsert the cursors that changed (one query; `stored` = what the table holds now)."""
    rows = [
        SyncCursor(user=user, feed=feed, value=value)
        for feed, value in values.items()
        if value and stored.get(feed) != value
    ]
    if not rows:
        return
    cursor_store.upsert(rows)  # one statement, no transaction around it
    stored.update((row.feed, row.value) for row in rows)


def _empty_counters() -> Counters:
    counters = Counters()
    for item_type in ITEM_TYPES:
        for direction in (DOWN, UP):
            counters.add(item_type, direction, COUNTER_KEYS[0], 0)
    return counters


class SessionRun:
    def __init__(
        self,
        user: User,
        session: SyncSession,
        now: dt.datetime,
        explicit_now: bool,
        heartbeat: Callable[[], bool] | None = None,
    ):
        self.user, self.session, self.now = user, session, now
        self.explicit_now = explicit_now
        self.heartbeat = heartbeat
        self.counters = _empty_counters()
        self.changed = self.held = False
        self.item_errors = 0
        self.stack: Stack | None = None
        self.stored_cursors: dict[str, str] = {}
        self.pending_cursors: dict[str, str] = {}
        self.unsettled_types: set[str] = set()
        self._links_by_type: dict[str, tuple[bool, bool]] | None = None
        self.steps = {item_type: _TypeSteps() for item_type in ITEM_TYPES}
        self.locked: dict[ItemType, int] = {}  # records Salesforce kept locked, by type

    def run(self) -> None:
        stack = self.stack = build_stack(self.user, self.now if self.explicit_now else None)
        cursors = dict(SyncCursor.objects.filter(user=self.user).values_list("feed", "value"))
        self.stored_cursors = dict(cursors)
        self.unsettled_types = intents.pending_types(self.user)
        s = stack.settings
        view_id = s.contact_view_id if s.contact_scope == SyncSettings.ContactScope.VIEW else None
        emails = EmailStep(self.user, self.session, self.now, stack, cursors, self.counters)
        reader = Reader(
            stack.sf,
            stack.mailbox,
            stack.codec,
            stack.containers,
            self._with_left_out_rereads(stack, cursors),
            rules_for(stack, None),
            self.now,
            _fingerprints(s),
            stack.kind.name,
            view_id,
        )
        batch, changes = reader.read_feeds(emails.read_with_items)  # emails ride the read
        members = None
        if s.contact_scope == SyncSettings.ContactScope.VIEW and view_id:
            members = reader.view_members(batch)
        reader.rules = rules_for(stack, members)
        if reader.reconcile_reason:  # only when due (syncengine.reconcile); no query otherwise
            reader.reconcile(_reconciled_ids(self.user))
        self._link_summary()  # one query for every type, before the lanes share the turn

        def lane(types: list[ItemType]) -> Callable[[], None]:
            def run_types() -> None:
                for item_type in types:
                    try:
                        self.check_lease()
                        role = codec_role(item_type)
                        self._run_type(stack, reader, item_type, batch, changes[role])
                    finally:  # a later type never waits for one that stopped
                        self.steps[item_type].finish()

            return run_types

        run_lanes([lane(types) for types in write_lanes(stack.mailbox)])
        self.check_lease()
        emails.deferred_cursors = self.pending_cursors  # stored with the session's, below
        emails.run()  # mailbox → Salesforce email logging (syncengine.email_session)
        self.changed |= emails.changed
        self.item_errors += emails.item_errors
        self.pending_cursors.update(reader.new_cursors)
        _store_cursors(self.user, self.pending_cursors, self.stored_cursors)
        if self.locked:
            n = sum(self.locked.values())
            raise TemporaryProviderError(
                f"Salesforce kept {n} record{'s' if n != 1 else ''} locked by another "
                "transaction (UNABLE_TO_LOCK_ROW); the next session writes "
                f"{'them' if n != 1 else 'it'}.",
                retry_after=LOCKED_RETRY_S,
                side=Connection.Side.SALESFORCE,
            )

    # -- a mailbox that holds a limited number of items (MailboxCodec.max_items) ----------

    def _left_out(self, item_type: ItemType) -> dict[str, Any]:
        """What the last scope read left out for the mailbox's limit (its scope cursor)."""
        stored = json.loads(self.stored_cursors.get(f"scope:{item_type}") or "{}")
        return stored if stored.get("left_out") else {}

    def _with_left_out_rereads(self, stack: Stack, cursors: Mapping[str, str]) -> dict[str, str]:
        """The cursors the reader sees: a type whose last scope read left records out for
        the mailbox's limit reads its scope again once a day (room the user made since is
        filled) and at once when the limit changed; other sessions only repeat the issue."""
        out = dict(cursors)
        today = local_date(self.now, rules_for(stack, None).zone).isoformat()
        for item_type in ITEM_TYPES:
            left = self._left_out(item_type)
            capacity = stack.codec.max_items(item_type)
            if left and (left.get("day") != today or left.get("capacity") != capacity):
                out.pop(f"scope:{item_type}", None)
        return out

    def _report_left_out(self, item_type: ItemType, left_out: int, capacity: int) -> None:
        """The Issues entry (SPEC §9): a problem of every session while records are left out."""
        SyncLogEntry.objects.create(
            session=self.session,
            user=self.user,
            item_type=str(item_type),
            kind=SyncLogEntry.Kind.PROBLEM,
            message=left_out_problem(item_type, left_out, capacity),
            payload={"code": "mailbox_full", "left_out": left_out, "capacity": capacity},
        )

    def _link_summary(self) -> dict[str, tuple[bool, bool]]:
        """By item type: (has links, some link has a Salesforce change not yet down, as
        link_store.has_pending_links) — one query for every type of the session."""
        if self._links_by_type is None:
            rows = (
                SyncLink.objects.filter(user=self.user)
                .annotate(seen=KT("sf_facts__content_hash"))
                .values("item_type")
                .annotate(pending=Count("pk", filter=Q(seen__isnull=False) & ~Q(seen=F("sf_hash"))))
            )
            self._links_by_type = {r["item_type"]: (True, r["pending"] > 0) for r in rows}
        return self._links_by_type

    def check_lease(self) -> None:
        lanes.check()  # another lane failed: stop here, as a crash would
        if self.heartbeat is not None and not self.heartbeat():
            raise LeaseLost

    def _run_type(
        self,
        stack: Stack,
        reader: Reader,
        item_type: ItemType,
        batch: ChangeBatch,
        changes: MailboxChanges,
    ) -> None:
        unsettled = str(item_type) in self.unsettled_types
        linked, pending = self._link_summary().get(str(item_type), (False, False))
        if reader.quiet(item_type, batch, changes, unlinked=not linked) and not (
            pending or unsettled
        ):
            cursor_values = sf_cursor_values(batch, item_type)
            cursor_values[mailbox_feed(stack.kind.name, item_type)] = changes.cursor
            # Nothing was written for this type: its cursors may as well advance with the
            # session's last ones (one query for all; a crash before only re-reads).
            self.pending_cursors.update(cursor_values)
            if item_type in BLOCK_TYPES and batch.contacts.records:
                self._after_earlier_types(item_type)
                self._refresh_blocks(stack, item_type, batch, {})  # a renamed person
            if left := self._left_out(item_type):
                self._report_left_out(item_type, int(left["left_out"]), int(left["capacity"]))
            return
        if item_type == ItemType.EVENT:  # issue 9: one meeting, one Salesforce event
            org_id = str((stack.sf_connection.extra or {}).get("org_id") or "")
            adopt_shared_meetings(self.user, org_id, stack.codec, changes.items)
        # Creates of an earlier session whose outcome is unknown are resolved first, so
        # the planner sees their products linked, whatever was edited since.
        resolution = None
        if unsettled:
            created = stack.sf.created_ids_since
            resolution = intents.resolve(self.user, item_type, batch, self.now, created)
            reader.confirm[item_type] = {m for m, _, _ in resolution.markers}
        links = load_links(self.user, item_type)
        scope_read = reader.scope_read_due(item_type)
        inputs = reader.inputs(item_type, links, batch, changes)
        capacity = stack.codec.max_items(item_type)
        result = plan(
            item_type,
            links=links.values(),
            sf_changes=inputs.sf_changes.values(),
            mailbox_changes=inputs.mailbox_changes.values(),
            rules=reader.rules,
            now=self.now,
            full_pass=inputs.full_pass,
            sf_current=inputs.sf_current,
            mailbox_capacity=capacity,
        )
        steps = self.steps[item_type]
        steps.writes_salesforce = writes_salesforce(result)
        steps.planned.set()
        # Left out for the mailbox's limit: what this plan skipped, plus, when the scope was
        # not read again, what the last scope read left out (those records were not seen).
        earlier = 0 if scope_read else int(self._left_out(item_type).get("left_out") or 0)
        left_out = result.left_out + earlier
        executor = self.executor_for(stack, item_type, links, inputs.raw_items)
        if resolution is not None:
            # The marker goes on the item as it is now (the user may have edited it since
            # the create); an item this session did not see is left as it is.
            current = inputs.mailbox_changes
            executor.write_markers(
                [
                    (m, sf_id, dict(current[m].fields))
                    for m, sf_id, _ in resolution.markers
                    if m in current and not current[m].gone
                ]
            )
            intents.drop(resolution.intents)
        # ledger: first-sync progress, done / total per type (syncengine.ledger)
        total = planned_writes(result)
        progress(self.session, item_type, done=0, total=total)
        # ledger: end
        executor.run(result)
        self.collect(executor)
        steps.executed.set()
        if executor.locked:
            self.locked[item_type] = executor.locked
        # ledger: what this session planned, did and skipped for a rule (syncengine.ledger)
        progress(self.session, item_type, done=total, total=total)
        record_org_usage(self.session, stack.sf.org_usage)

        record_plan(
            self.session,
            item_type,
            result,
            links=links,
            sf_records={**inputs.sf_current, **inputs.sf_changes},
            mailbox_records=inputs.mailbox_changes,
            rules=reader.rules,
            now=self.now,
        )
        # ledger: end
        self._after_earlier_types(item_type)
        related_events: set[str] = set()
        if item_type == ItemType.EVENT:  # issue 9: the meetings' people (meeting_relations)
            related = relate_meetings(
                self.user,
                stack.sf,
                stack.codec,
                inputs.raw_items,
                mailbox_address=stack.mailbox_connection.external_address or "",
                org_cache=OrgSettingCache(stack.sf_connection, self.now),
            )
            self.changed |= related.related > 0
            self.item_errors += related.errors
            related_events = related.events
        if item_type in BLOCK_TYPES:  # issue 9: the "In Salesforce:" block of the copies
            written = executor.updated_mailbox_ids
            self._refresh_blocks(
                stack,
                item_type,
                batch,
                inputs.raw_items,
                written,
                related_events,
                recreated=executor.recreated_sf_ids,
            )
        cursor_values = sf_cursor_values(batch, item_type)
        cursor_values[mailbox_feed(stack.kind.name, item_type)] = inputs.mailbox_cursor
        cursor_values[echo_feed(stack.kind.name, item_type)] = _json(executor.created_mailbox_ids)
        if inputs.scope_cursor is not None:
            scope = dict(inputs.scope_cursor)
            if left_out and capacity is not None:
                scope.update(left_out=left_out, capacity=capacity)
            cursor_values[f"scope:{item_type}"] = _json(scope)
        if left_out and capacity is not None:
            self._report_left_out(item_type, left_out, capacity)
        if item_type not in self.locked:  # else its cursors stay: the next session reads
            self.pending_cursors.update(cursor_values)  # and writes those changes again
        if executor.changed:  # a type's cursors advance only after what it wrote
            _store_cursors(self.user, self.pending_cursors, self.stored_cursors)
            self.pending_cursors = {}
        # The Office 365 adapter finds a deleted folder or list again: keep the new id.
        store_containers(
            self.user,
            stack.mailbox_connection.provider,
            dict(stack.mailbox.containers),
            {r: c.external_id for r, c in stack.containers.items()},
        )

    def _after_earlier_types(self, item_type: ItemType) -> None:
        """Wait (off turn) until the types before `item_type` have written to Salesforce
        what they planned to: a meeting's or task's people and the "In Salesforce:" block
        are looked up there, and may be the contacts this session creates."""
        for earlier in ITEM_TYPES[: ITEM_TYPES.index(item_type)]:
            steps = self.steps[earlier]
            wait_for(steps.planned)
            if steps.writes_salesforce:
                wait_for(steps.executed)

    def _refresh_blocks(
        self,
        stack: Stack,
        item_type: ItemType,
        batch: ChangeBatch,
        raw_items: Mapping[str, Mapping[str, Any]],
        written: Iterable[str] = (),
        related_events: Iterable[str] = (),
        recreated: Iterable[str] = (),
    ) -> None:
        blocks = refresh_blocks(
            self.user,
            stack.sf,
            stack.mailbox,
            stack.codec,
            batch,
            raw_items,
            item_type=item_type,
            org_cache=OrgSettingCache(stack.sf_connection, self.now),
            written=written,
            related_events=related_events,
            recreated=recreated,
        )
        self.changed |= blocks.written > 0
        self.item_errors += blocks.errors

    def executor_for(
        self,
        stack: Stack,
        item_type: ItemType,
        links: Mapping[str, LinkState],
        raw_items: dict[str, dict[str, Any]],
    ) -> Executor:
        return Executor(
            user=self.user,
            session=self.session,
            item_type=item_type,
            sf=stack.sf,
            mailbox=stack.mailbox,
            codec=stack.codec,
            containers=stack.containers,
            links=links,
            raw_items=raw_items,
            me=stack.me,
            now=self.now,
            counters=self.counters,
            check_lease=self.check_lease,
        )

    def collect(self, executor: Executor) -> None:
        self.changed |= executor.changed
        self.held |= executor.held
        self.item_errors += executor.item_errors

    def finish(self, status: str, error: str = "", retry_after: float | None = None) -> None:
        session = self.session
        session.status = status
        session.error = error
        session.counters = self.counters.data
        session.changed = self.changed
        session.retry_after_seconds = retry_after
        if self.stack is not None:
            session.api_calls_salesforce = self.stack.sf.api_calls
            session.api_calls_mailbox = self.stack.mailbox.api_calls
        session.finished_at = timezone.now()
        session.save()

    def abandon(self) -> None:
        """Close the session as abandoned unless the new lease holder already did; nothing
        else is written (the new holder's session redoes whatever this one left)."""
        SyncSession.objects.filter(pk=self.session.pk, status=SyncSession.Status.RUNNING).update(
            status=SyncSession.Status.ABANDONED,
            finished_at=timezone.now(),
            error="Another worker took over this user's sessions; this one stopped.",
            counters=self.counters.data,
            changed=self.changed,
        )
        self.session.refresh_from_db()


def codec_role(item_type: ItemType) -> str:
    return ROLE[item_type]


@dataclass
class _TypeSteps:
    """How far a type of the session has come, for the lanes that wait on it."""

    planned: threading.Event = field(default_factory=threading.Event)
    executed: threading.Event = field(default_factory=threading.Event)
    writes_salesforce: bool = False

    def finish(self) -> None:
        self.planned.set()
        self.executed.set()


def write_lanes(mailbox: MailboxAdapter) -> list[list[ItemType]]:
    """The session's types by the mailbox budget their writes spend, in ITEM_TYPES order:
    one lane each (syncengine.lanes)."""
    by_lane: dict[str, list[ItemType]] = {}
    for item_type in ITEM_TYPES:
        by_lane.setdefault(mailbox.write_lane(codec_role(item_type)), []).append(item_type)
    return list(by_lane.values())


def _json(value: Any) -> str:
    return json.dumps(value)


def finish_with_outcome(run: SessionRun, action: Any) -> SyncSession:
    """Run `action()` and close the session with the status its outcome means."""
    Status = SyncSession.Status
    try:
        with db_turns.taking_turns():  # its lanes and helper threads share its connection
            action()
    except LeaseLost:
        run.abandon()
    except SessionTimeLimit as exc:
        run.finish(Status.RETRY_LATER, str(exc), TIME_LIMIT_RETRY_S)
    except SessionStop as exc:
        run.finish(Status.FAILED, str(exc))
    except ReconnectRequired as exc:
        _mark_reconnect(run, exc)
        run.finish(Status.FAILED, str(exc))
    except TemporaryProviderError as exc:
        run.finish(Status.RETRY_LATER, str(exc), exc.retry_after)
    except ProviderError as exc:
        run.finish(Status.FAILED, str(exc))
    except Exception as exc:  # a bug or a crash: the next session heals (markers, cursors)
        logger.exception("sync session %s of user %s crashed", run.session.pk, run.user.pk)
        run.finish(Status.FAILED, f"Unexpected error: {exc!r}")
    else:
        if run.held:
            run.finish(Status.NEEDS_CONFIRMATION)
        elif run.item_errors:
            run.finish(Status.PARTIAL)
        else:
            run.finish(Status.SUCCEEDED)
    return run.session


def _mark_reconnect(run: SessionRun, error: ReconnectRequired) -> None:
    """The clients mark the connection whose refresh was refused; make sure one is (the
    error says which side refused; one that does not say is taken for the mailbox's)."""
    conns = [Connection.objects.salesforce_for(run.user), Connection.objects.mailbox_for(run.user)]
    live = [c for c in conns if c is not None]
    if any(not c.is_active for c in live):
        return
    side = error.side or Connection.Side.MAILBOX
    for conn in live:
        if conn.side == side:
            conn.mark_needs_reconnect(str(error))


def run_session(
    user: User,
    trigger: str,
    *,
    now: dt.datetime | None = None,
    heartbeat: Callable[[], bool] | None = None,
) -> SyncSession:
    """One session for `user` (the caller holds the user's lease). Never raises for a
    provider's failure: the returned SyncSession says what happened.

    `heartbeat` renews the lease between item types and execution batches; when it answers
    False the session stops as abandoned without writing anything more."""
    explicit = now is not None
    now = now or timezone.now()
    session = SyncSession.objects.create(user=user, trigger=trigger, heartbeat_at=timezone.now())
    run = SessionRun(user, session, now, explicit, heartbeat)
    return finish_with_outcome(run, run.run)
