"""The engine's Exchange Server adapter: every EWS call of a sync session (exchangelib).

Containers: see folders.py. Reads: see feeds.py (SyncFolderItems per folder with its
SyncState, GetItem in batches, CalendarView for the occurrences of series in the window).
An idle session costs one SyncFolderItems per folder: EWS has no batch across folders
(SyncFolderItems takes exactly one SyncFolderId), so that is 3 item feeds + 1 for the
"Salesforce Emails" folder = 4 calls (6 with auto-save: inbox and sent items too), plus
exchangelib's one-time version probe per worker process (its Protocol is cached). The
feeds are independent, so they are in flight together (`_read_feeds`).

Writes are batched CreateItem / UpdateItem / DeleteItem (exchangelib's bulk_*), one result
per item; calendar items always with SendMeetingInvitations(OrCancellations)=SendToNone
and SendMeetingCancellations=SendToNone, messages never sent (SaveOnly): Relay never mails
an invitation; Relay never gives attendees to an item it writes (the mapper writes none and
an update names only Relay's fields). A description-only update (the "In Salesforce:"
block) sets the body alone. A second write of an item in one session goes with the
ChangeKey the first returned (`change_keys`), so AutoResolve does not take Relay's own
earlier write for a conflicting change. A refusal of the whole call (ErrorServerBusy with
BackOffMilliseconds, logon, transport) raises the typed provider error (`translate`), so
the session retries later.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from django.conf import settings
from exchangelib import CalendarItem, Contact, Task
from exchangelib.folders.base import Folder
from exchangelib.items import AUTO_RESOLVE
from exchangelib.properties import Body, ItemId

from accounts.providers.exchange import counting, translated
from syncengine.emails.feed import EmailFeed
from syncengine.emails.records import EmailRecord
from syncengine.mappers import exchange as xmap

from ..at_once import at_once
from ..base import (
    CONTACTS,
    CONTAINER_NAMES,
    EVENTS,
    TASKS,
    ContainerRef,
    CursorExpired,
    FeedsAtOnce,
    MailboxChanges,
    WriteResult,
)
from .feeds import (
    REBASE_AFTER,
    EventCursor,
    calendar_view,
    get_items,
    sync_folder,
    window,
)
from .folders import MailboxFolders
from .mail import ExchangeMail
from .writes import create_items, delete_items, in_chunks, update_items

ROLE_OF = {"contact": CONTACTS, "task": TASKS, "event": EVENTS}
ITEM_CLASS = {CONTACTS: Contact, TASKS: Task, EVENTS: CalendarItem}
UPDATE_FIELDS = {
    CONTACTS: xmap.CONTACT_FIELDS,
    TASKS: (*xmap.TASK_FIELDS, "percent_complete"),
    EVENTS: xmap.EVENT_FIELDS,
}
T = TypeVar("T")


def write_chunk() -> int:
    """Items per EWS write call (settings.EXCHANGE_WRITE_CHUNK, 100)."""
    return max(1, int(settings.EXCHANGE_WRITE_CHUNK))


def calls_at_once() -> int:
    """EWS calls of one step in flight at once (CreateItem / UpdateItem / GetItem chunks,
    the folder feeds): settings.EXCHANGE_WRITE_CONCURRENCY, below the mailbox's
    EWSMaxConcurrency, never more than the worker's connection pool."""
    wanted = int(settings.EXCHANGE_WRITE_CONCURRENCY)
    return max(1, min(wanted, int(settings.EXCHANGE_MAX_CONNECTIONS)))


def role_of(name: str) -> str:
    return ROLE_OF.get(name, name)


def wrap(item: Any, series: str | None = None) -> dict[str, Any]:
    return {"id": str(item.id), "changeKey": str(item.changekey or ""), "ews": item}


class ExchangeAdapter(FeedsAtOnce):
    """MailboxAdapter over EWS (see the module docstring)."""

    def __init__(
        self,
        account: Any,
        time_zone: str = "UTC",
        *,
        clock: Callable[[], dt.datetime] | None = None,
    ) -> None:
        self.account = account
        self.time_zone = time_zone
        self.clock = clock or (lambda: dt.datetime.now(dt.UTC))
        self.folders = MailboxFolders(account)
        self.containers: dict[str, ContainerRef] = {}
        self.api_calls = 0
        # The ChangeKey each of this session's own writes returned, by item id: a second
        # write of an item read earlier in the session (the marker, then the fields) goes
        # with it, or AutoResolve would see Relay's first write as a conflicting change.
        self.change_keys: dict[str, str] = {}

    def call(self, work: Callable[[], T]) -> T:
        """Run exchangelib work: count its HTTP requests, type its failures."""
        with counting() as counter:
            try:
                with translated():
                    return work()
            finally:
                self.api_calls += len(counter)

    # -- containers ------------------------------------------------------------------------

    def ensure_containers(self, known: Mapping[str, str]) -> dict[str, ContainerRef]:
        out = self.folders.known(known)
        missing = [role for role in CONTAINER_NAMES if role not in out]
        if missing:
            out.update(self.call(lambda: self.folders.ensure(missing)))
        self.containers.update(out)
        return {role: out[role] for role in CONTAINER_NAMES}

    def any_folder(self) -> Folder:
        return Folder(root=self.folders.root)

    def folder(self, role: str) -> Folder:
        return self.folders.folder(role, self.containers[role].external_id)

    # -- reads -----------------------------------------------------------------------------

    def read_changes(
        self, item_type: str, cursor: str | None, containers: Mapping[str, ContainerRef]
    ) -> MailboxChanges:
        self.containers.update(containers)
        role = role_of(item_type)
        return self.call(lambda: self._read(role, cursor))

    def _read_feeds(
        self,
        cursors: Mapping[str, str | None],
        containers: Mapping[str, ContainerRef],
        more: Sequence[Callable[[], Any]],
    ) -> tuple[dict[str, MailboxChanges], list[Any]]:
        """Every item feed (and the `more` reads) in flight together: they are independent,
        and EWS allows 10 calls in flight per mailbox, so an idle session waits for about
        one SyncFolderItems, not four in a row. The results of `more` come second."""
        self.containers.update(containers)
        names = list(cursors)
        jobs: list[Callable[[], Any]] = [
            functools.partial(self._read_or_restart, name, cursors[name]) for name in names
        ]
        answers = self.call(lambda: at_once([*jobs, *more], calls_at_once(), "relay-ews"))
        return dict(zip(names, answers[: len(names)], strict=True)), answers[len(names) :]

    def _email_reader(
        self,
        cursors: Mapping[str, str | None],
        containers: Mapping[str, ContainerRef],
        auto_save: bool,
        owner: str | None,
    ) -> Callable[[], EmailFeed]:
        mail = ExchangeMail(self, owner or self.account.primary_smtp_address)
        return lambda: mail.read(cursors, auto_save)

    def _read_or_restart(self, name: str, cursor: str | None) -> MailboxChanges:
        role = role_of(name)
        try:
            return self._read(role, cursor)
        except CursorExpired:
            return self._read(role, None)  # a reconciling full pass with a new SyncState

    def _read(self, role: str, cursor: str | None) -> MailboxChanges:
        if role == EVENTS:
            return self._read_events(cursor)
        delta = sync_folder(self.folder(role), cursor)
        # Ids and ChangeKeys only: the reader fetches the ones Relay did not just write.
        return MailboxChanges(
            versions_only=delta.versions,
            removed_ids=delta.deleted,
            cursor=delta.state,
            full=not cursor,
        )

    def _read_events(self, cursor_text: str | None) -> MailboxChanges:
        lo, hi = window(self.clock())
        cursor = EventCursor.parse(cursor_text)
        slid = cursor is not None and cursor.window_start is not None
        if slid and lo - cursor.window_start >= REBASE_AFTER:  # type: ignore[union-attr, operator]
            cursor = None  # the window slid: a new round over the current window
        calendar = self.folder(EVENTS)
        if cursor is None:
            delta = sync_folder(calendar, None, calendar=True)
            fresh = EventCursor(delta.state, lo)
            masters = {
                i: uid for i, (kind, uid) in delta.kinds.items() if kind == "RecurringMaster"
            }
            rows = calendar_view(calendar, lo, hi)
            ids = [i for i, _kind, _uid in rows]
            self._remember_series(fresh, masters, rows)
            items = self._get_items(ids) if ids else {}
            return MailboxChanges(
                items=[wrap(item) for item in items.values() if item is not None],
                cursor=fresh.dump(),
                full=True,
            )
        delta = sync_folder(calendar, cursor.state, calendar=True)
        removed: set[str] = set()
        changed_masters: dict[str, str] = {}
        singles: list[str] = []
        for item_id in delta.changed:
            kind, uid = delta.kinds.get(item_id, ("", ""))
            if kind == "RecurringMaster":
                changed_masters[item_id] = uid
            else:
                singles.append(item_id)
        for item_id in delta.deleted:
            if item_id in cursor.series:
                removed |= cursor.occurrence_ids([item_id])
                cursor.series.pop(item_id)
            else:
                removed.add(item_id)
        wanted = list(singles)
        if changed_masters:
            rows = calendar_view(calendar, lo, hi)
            before = cursor.occurrence_ids(changed_masters)
            self._remember_series(cursor, changed_masters, rows)
            now_ids = cursor.occurrence_ids(changed_masters)
            removed |= before - now_ids
            wanted += sorted(now_ids)
        items = self._get_items(wanted) if wanted else {}
        out: list[dict[str, Any]] = []
        for item_id, item in items.items():
            if item is None:
                removed.add(item_id)
            elif item_id in singles and not _overlaps(item, lo, hi):
                removed.add(item_id)  # outside the window: the engine confirms by id
            else:
                out.append(wrap(item))
        cursor.state = delta.state
        return MailboxChanges(items=out, removed_ids=sorted(removed), cursor=cursor.dump())

    @staticmethod
    def _remember_series(
        cursor: EventCursor, masters: Mapping[str, str], rows: Sequence[tuple[str, str, str]]
    ) -> None:
        for master, uid in masters.items():
            occ = [i for i, kind, row_uid in rows if row_uid == uid and kind != "Single"]
            cursor.series[master] = {"uid": uid, "occ": occ}

    def _get_items(self, ids: Sequence[str]) -> dict[str, Any | None]:
        """GetItem over `ids`, several calls in flight (a follow-up update's reads, the
        reader's fetch of changed items) as the writes are."""
        return get_items(self.account, ids, self.any_folder(), calls_at_once())

    def fetch(self, item_type: str, ids: Sequence[str]) -> dict[str, dict[str, Any] | None]:
        if not ids:
            return {}
        items = self.call(lambda: self._get_items(ids))
        return {i: (wrap(item) if item is not None else None) for i, item in items.items()}

    # -- email feed ------------------------------------------------------------------------

    def read_email_changes(
        self,
        cursors: Mapping[str, str | None],
        containers: Mapping[str, ContainerRef],
        *,
        auto_save: bool,
        owner: str | None = None,
    ) -> EmailFeed:
        self.containers.update(containers)
        before = self.api_calls
        mail = ExchangeMail(self, owner or self.account.primary_smtp_address)
        feed: EmailFeed = self.call(lambda: mail.read(cursors, auto_save))
        feed.api_calls = self.api_calls - before
        return feed

    def fetch_emails(
        self, ids: Sequence[str], containers: Mapping[str, ContainerRef], *, owner: str = ""
    ) -> dict[str, EmailRecord | None]:
        mail = ExchangeMail(self, owner or self.account.primary_smtp_address)
        return self.call(lambda: mail.fetch(list(ids)))

    # -- writes ----------------------------------------------------------------------------

    def _build(self, role: str, payload: Mapping[str, Any], folder: Folder | None) -> Any:
        fields, sf_id, existing = payload["fields"], payload.get("marker"), payload.get("existing")
        if role == CONTACTS:
            return xmap.contact_to_ews(fields, sf_id=sf_id, existing=existing, folder=folder)
        if role == TASKS:
            return xmap.task_to_ews(fields, sf_id=sf_id, existing=existing, folder=folder)
        return xmap.event_to_ews(
            fields, self.time_zone, sf_id=sf_id, existing=existing, folder=folder
        )

    def create(
        self,
        item_type: str,
        payloads: Sequence[dict[str, Any]],
        containers: Mapping[str, ContainerRef],
    ) -> list[WriteResult]:
        if not payloads:
            return []
        self.containers.update(containers)
        role = role_of(item_type)
        folder = self.folder(role)
        items = [self._build(role, p, folder) for p in payloads]
        answers = self._in_flight(
            lambda part, chunk: create_items(self.account, folder, part, chunk), items
        )
        return self._remembered([_result(a) for a in answers])

    def _in_flight(
        self, send: Callable[[Sequence[Any], int], list[Any]], items: Sequence[Any]
    ) -> list[Any]:
        """`send(part, chunk)` over `items` in chunks, up to `calls_at_once` calls in
        flight at once (writes.in_chunks); the answers in the order of `items`."""
        chunk = write_chunk()
        return self.call(
            lambda: in_chunks(lambda part: send(part, chunk), items, chunk, calls_at_once())
        )

    def _remembered(self, results: list[WriteResult]) -> list[WriteResult]:
        """`results`, their change keys kept for this session's next write of the items."""
        self.change_keys.update((r.id, r.version) for r in results if r.ok and r.version)
        return results

    def write_window(self, item_type: str) -> int:
        # One window: the CreateItem calls `create` sends at once. The pipeline has one
        # window in flight, so the mailbox never sees more than `calls_at_once` of them.
        return write_chunk() * calls_at_once()

    def write_lane(self, item_type: str) -> str:
        return "mailbox"  # EWSMaxConcurrency counts every call of the impersonated mailbox

    def update(
        self, item_type: str, changes: Sequence[tuple[str, dict[str, Any]]]
    ) -> list[WriteResult]:
        if not changes:
            return []
        role = role_of(item_type)
        pairs = []
        for item_id, payload in changes:
            if "fields" in payload:
                item = self._build(role, payload, None)
                names = [*UPDATE_FIELDS[role], xmap.MARKER_ATTRIBUTE]
            elif "description" in payload:  # the body alone (the "In Salesforce:" block)
                item = ITEM_CLASS[role](_id=ItemId(id=item_id), account=self.account)
                text = payload["description"]
                item.body = Body(text) if text else None
                names = ["body"]
            else:  # the marker alone
                item = payload.get("existing") or ITEM_CLASS[role](
                    _id=ItemId(id=item_id), account=self.account
                )
                xmap.register_marker()
                setattr(item, xmap.MARKER_ATTRIBUTE, payload["marker"])
                names = [xmap.MARKER_ATTRIBUTE]
            if not getattr(item, "account", None):
                item.account = self.account
            if not item.id:
                item._id = ItemId(id=item_id)
            if item_id in self.change_keys:
                item._id = ItemId(id=item_id, changekey=self.change_keys[item_id])
            if not getattr(item, xmap.MARKER_ATTRIBUTE, None):
                names = [n for n in names if n != xmap.MARKER_ATTRIBUTE]
            # Server-computed fields (a task's CompleteDate follows its Status) are set on
            # create only; UpdateItem refuses them.
            names = [n for n in names if not item.get_field_by_fieldname(n).is_read_only]
            pairs.append((item, names))
        answers = self._in_flight(
            lambda part, chunk: update_items(self.account, part, chunk, AUTO_RESOLVE), pairs
        )
        return self._remembered(
            [_result(a, item_id) for (item_id, _), a in zip(changes, answers, strict=True)]
        )

    def delete(self, item_type: str, ids: Sequence[str]) -> list[WriteResult]:
        if not ids:
            return []
        answers = self.call(lambda: delete_items(self.account, ids, write_chunk()))
        out = []
        for item_id, answer in zip(ids, answers, strict=True):
            if _not_found(answer):
                out.append(WriteResult(ok=True, id=item_id, status=404))
            else:
                out.append(_result(answer, item_id))
        return out


def _overlaps(item: Any, lo: dt.datetime, hi: dt.datetime) -> bool:
    start, end = getattr(item, "start", None), getattr(item, "end", None)
    if start is None or end is None:
        return True
    if not isinstance(start, dt.datetime):  # all-day: dates
        return bool(start <= hi.date() and end >= lo.date())
    return bool(start.timestamp() < hi.timestamp() and end.timestamp() > lo.timestamp())


def _not_found(answer: Any) -> bool:
    return isinstance(answer, Exception) and type(answer).__name__ == "ErrorItemNotFound"


def _result(answer: Any, item_id: str = "") -> WriteResult:
    if isinstance(answer, Exception):
        status = (
            404 if _not_found(answer) else (409 if "Conflict" in type(answer).__name__ else 400)
        )
        return WriteResult(
            ok=False, id=item_id, status=status, error=f"{type(answer).__name__}: {answer}"
        )
    if answer is True:
        return WriteResult(ok=True, id=item_id, status=200)
    if isinstance(answer, tuple):
        new_id, change_key = answer
        return WriteResult(ok=True, id=str(new_id), version=str(change_key or ""), status=200)
    return WriteResult(
        ok=True, id=str(answer.id or item_id), version=str(answer.changekey or ""), status=200
    )
