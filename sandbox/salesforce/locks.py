"""Record locking: the row locks a write holds, and `UNABLE_TO_LOCK_ROW` when it cannot get them.

A real org locks, for the length of a write transaction, the records it writes and the
parents a child's write touches (Contact -> its Account, Task/Event -> WhoId, WhatId and
their Account). Another transaction that needs one of those rows waits about 10 seconds,
then that record fails with `UNABLE_TO_LOCK_ROW` ("unable to obtain exclusive access to this
record or 1 records: <id>"). Sources (salesforce/FIDELITY.md, "Record locking"):
- Record Locking Cheat Sheet, https://developer.salesforce.com/blogs/2014/07/record-locking-cheat-sheet
  and https://resources.docs.salesforce.com/rel1/doc/en-us/static/pdf/SF_Record-Locking-Cheatsheet_web.pdf
- Record-Level Locking, https://developer.salesforce.com/docs/atlas.en-us.draes.meta/draes/draes_object_relationships_record_level_locking.htm

The emulator models a write call as one transaction that takes its row locks before the
emulator's lock (never waiting while holding it) and keeps them until its response is made,
across the latency model's sleep (`Emulator.holds`, sandbox/common/app.py). Which rows a call
needs is read from its body and, for a record that exists, from the store: the record's own
row first, then (once that is held, so its lookups cannot change under us) its parents.
"""

from __future__ import annotations

import itertools
import json
import re
import threading
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Request, Response

from sandbox.common import HttpError

from .composite import MAX_COLLECTION
from .rules import account_of
from .schema import TASK_CLOSED_STATUSES
from .values import to_18

if TYPE_CHECKING:
    from threading import RLock

    from .store import Store

#: Seconds a transaction waits for a row another one holds ("about 10 seconds").
LOCK_WAIT_S = 10.0

# The lookups whose target an insert or update of the child locks. Contact and Opportunity:
# their Account (cheat sheet, "Opportunity inserts lock the related account record"; a Contact
# is the Account's child, Record-Level Locking). Task / Event: WhoId, WhatId and the Account
# they roll up to (cheat sheet, Task rows). The relation and junction rows lock the activity
# or email they belong to (Record-Level Locking: a child's write locks its parent; inferred,
# no row of the cheat sheet names them).
PARENT_LOOKUPS: dict[str, tuple[str, ...]] = {
    "Contact": ("AccountId",),
    "Opportunity": ("AccountId",),
    "Task": ("WhoId", "WhatId", "AccountId"),
    "Event": ("WhoId", "WhatId", "AccountId"),
    "EventRelation": ("EventId",),
    "TaskRelation": ("TaskId",),
    "EmailMessage": ("RelatedToId",),
    "EmailMessageRelation": ("EmailMessageId",),
}
# Deleting these locks their parents too (cheat sheet: a Task's delete locks the Account,
# WhoId and WhatId "irrespective of task record values"); any other delete locks the record.
LOCKS_PARENTS_ON_DELETE = frozenset({"Task", "Event"})

_COLLECTION = re.compile(r"^/services/data/v[\d.]+/composite/sobjects/?$")
_SOBJECT = re.compile(r"^/services/data/v[\d.]+/sobjects/(\w+)/?$")
_SOBJECT_ID = re.compile(r"^/services/data/v[\d.]+/sobjects/(\w+)/(\w+)/?$")

REFUSED_KEY = "sandbox.lock_refused"  # environ: {record index: the row that was not had}


def lock_error(row_id: str) -> HttpError:
    """What Salesforce says for a record whose row (or its parent's) another transaction held."""
    return HttpError(
        400,
        "UNABLE_TO_LOCK_ROW",
        f"unable to obtain exclusive access to this record or 1 records: {row_id}",
    )


class RowLocks:
    """Exclusive row locks, each held by one owner (a transaction), waited for with a deadline."""

    def __init__(self) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._holder: dict[str, int] = {}
        self._owners = itertools.count(1)

    def new_owner(self) -> int:
        return next(self._owners)

    def acquire(self, owner: int, ids: Iterable[str], deadline: float) -> set[str]:
        """Take every row of `ids` that comes free before `deadline`; the ones not had.

        Rows are taken as they come free, not all at once, as a database takes them row by
        row: two transactions that each hold what the other wants wait until the deadline."""
        wanted = set(ids)
        with self._cond:
            while True:
                for rid in list(wanted):
                    if self._holder.setdefault(rid, owner) == owner:
                        wanted.discard(rid)
                left = deadline - time.monotonic()
                if not wanted or left <= 0:
                    return wanted
                self._cond.wait(left)

    def release(self, owner: int) -> None:
        with self._cond:
            for rid in [r for r, o in self._holder.items() if o == owner]:
                del self._holder[rid]
            self._cond.notify_all()

    def held(self) -> list[str]:
        with self._cond:
            return sorted(self._holder)


@dataclass
class Write:
    """One record a write call touches: its type, its own id (None for an insert), its body."""

    op: str  # "insert" | "update" | "delete"
    sobject: str | None
    own: str | None = None
    values: dict[str, Any] = field(default_factory=dict)


def _id(raw: Any) -> str | None:
    return to_18(raw) if isinstance(raw, str) else None


def _record_write(op: str, rec: Any, sobject: str | None = None) -> Write:
    if not isinstance(rec, dict):
        return Write(op, sobject)
    attributes = rec.get("attributes")
    sobject = sobject or (attributes.get("type") if isinstance(attributes, dict) else None)
    own = _id(rec.get("id") or rec.get("Id")) if op == "update" else None
    values = {k: v for k, v in rec.items() if k not in ("attributes", "id", "Id")}
    return Write(op, sobject if isinstance(sobject, str) else None, own, values)


def planned_writes(request: Request) -> list[Write] | None:
    """The records a write call touches, in request order; None for a call that writes none."""
    path, method = request.path, request.method
    try:
        if _COLLECTION.match(path):
            if method == "DELETE":
                ids = [i for i in request.args.get("ids", "").split(",") if i]
                if len(ids) > MAX_COLLECTION:
                    return None
                return [Write("delete", None, _id(i)) for i in ids]
            if method not in ("POST", "PATCH"):
                return None
            data = json.loads(request.get_data(as_text=True) or "null")
            records = data.get("records") if isinstance(data, dict) else None
            if not isinstance(records, list) or len(records) > MAX_COLLECTION:
                return None  # refused before any record is looked at
            op = "insert" if method == "POST" else "update"
            return [_record_write(op, rec) for rec in records]
        m = _SOBJECT.match(path)
        if m and method == "POST":
            data = json.loads(request.get_data(as_text=True) or "null")
            return [_record_write("insert", data, m[1])]
        m = _SOBJECT_ID.match(path)
        if m and method in ("PATCH", "DELETE"):
            op = "update" if method == "PATCH" else "delete"
            data = json.loads(request.get_data(as_text=True) or "null") if op == "update" else {}
            write = _record_write(op, data, m[1])
            write.own = _id(m[2])
            return [write]
    except ValueError:  # a body that is not JSON: the handler answers JSON_PARSER_ERROR
        return None
    return None


def _parents(store: Store, write: Write) -> list[str]:
    """The parent rows this record's write locks, as the record is now and will be."""
    sobject = write.sobject
    obj = store.sobject(sobject or "") if sobject else None
    if write.op == "delete" and write.own:
        sobject = store.type_of(write.own)
    elif obj is not None:
        sobject = obj.name
    if sobject not in PARENT_LOOKUPS:
        return []
    if write.op == "delete" and sobject not in LOCKS_PARENTS_ON_DELETE:
        return []
    lookups = PARENT_LOOKUPS[sobject]
    stored = store.records[sobject].get(write.own) if write.own else None
    after = {k: (stored or {}).get(k) for k in lookups}
    after.update({k: _id(v) for k, v in write.values.items() if k in lookups})
    # Cheat sheet: a Task insert locks them only if it is open and has an ActivityDate.
    open_and_dated = write.values.get("Status") not in TASK_CLOSED_STATUSES and bool(
        write.values.get("ActivityDate")
    )
    if sobject == "Task" and write.op == "insert" and not open_and_dated:
        return []
    if sobject in ("Task", "Event"):
        after["AccountId"] = account_of(store, after)
    rows = [after.get(k) for k in lookups]
    if stored is not None:  # a re-parented child locks the parent it leaves as well
        rows += [stored.get(k) for k in lookups]
    return sorted({r for r in rows if isinstance(r, str) and r})


class RecordLocking:
    """Mixin for SalesforceEmulator: row locks around write calls, and their test knobs."""

    #: Seconds a write waits for a row another transaction holds before UNABLE_TO_LOCK_ROW.
    lock_wait_s: float = LOCK_WAIT_S
    row_locks: RowLocks
    #: Records refused with UNABLE_TO_LOCK_ROW, per contested row id, since the last reset.
    lock_refusals: Counter[str]
    store: Store
    lock: RLock

    def _fresh_locks(self) -> None:
        if not hasattr(self, "row_locks"):
            self.row_locks = RowLocks()
        control = getattr(self, "_control_owner", None)
        if control is not None:
            self.row_locks.release(control)
        self._control_owner: int | None = None
        self.lock_refusals = Counter()
        self.lock_wait_s = type(self).lock_wait_s

    def holds(self, request: Request, principal: str | None) -> AbstractContextManager[None]:
        writes = planned_writes(request)
        if not writes:
            return nullcontext()
        return self._transaction(request, writes)

    @contextmanager
    def _transaction(self, request: Request, writes: list[Write]) -> Iterator[None]:
        owner = self.row_locks.new_owner()
        deadline = time.monotonic() + self.lock_wait_s
        refused: dict[int, str] = {}
        try:
            own = {i: w.own for i, w in enumerate(writes) if w.own}
            missed = self.row_locks.acquire(owner, own.values(), deadline)
            refused.update({i: rid for i, rid in own.items() if rid in missed})
            # Read the parents only once the record's own row is held (no one can re-parent
            # it meanwhile), and under the emulator's lock only for the read, never the wait.
            with self.lock:
                parents = {
                    i: _parents(self.store, w) for i, w in enumerate(writes) if i not in refused
                }
            missed = self.row_locks.acquire(
                owner, {p for rows in parents.values() for p in rows}, deadline
            )
            for i, rows in parents.items():
                lost = [p for p in rows if p in missed]
                if lost:
                    refused[i] = lost[0]
            request.environ[REFUSED_KEY] = refused
            yield
        finally:
            self.row_locks.release(owner)

    def lock_refused(self, request: Request, index: int = 0) -> HttpError | None:
        """The UNABLE_TO_LOCK_ROW for record `index` of this call, counted; None if it may write."""
        row = request.environ.get(REFUSED_KEY, {}).get(index)
        if row is None:
            return None
        self.lock_refusals[row] += 1
        return lock_error(row)

    @contextmanager
    def hold_row_locks(self, ids: Iterable[str], wait_s: float | None = None) -> Iterator[None]:
        """Hold these rows as another user's transaction would, until the block ends.

        Waits up to `wait_s` (default `lock_wait_s`) for rows a call holds; TimeoutError if
        one stays busy. Never call it holding the emulator's lock."""
        owner = self.row_locks.new_owner()
        rows = [_id(i) or i for i in ids]
        wait = self.lock_wait_s if wait_s is None else wait_s
        try:
            missed = self.row_locks.acquire(owner, rows, time.monotonic() + wait)
            if missed:
                raise TimeoutError(f"rows still locked after {wait} s: {sorted(missed)}")
            yield
        finally:
            self.row_locks.release(owner)

    def locks_control(self, request: Request) -> Response | None:
        """`/_sandbox/locks`: GET the state; POST {"hold": [ids]} (held until DELETE),
        {"lock_wait_s": s}, {"release": true}; DELETE releases what the control holds."""
        if request.path.strip("/") != "_sandbox/locks":
            return None
        if request.method not in ("GET", "POST", "DELETE"):
            return None
        body = (request.get_json(silent=True) or {}) if request.method == "POST" else {}
        status = 200
        try:
            if request.method == "DELETE" or body.get("release"):
                self._release_control()
            if "lock_wait_s" in body:
                wait = float(body["lock_wait_s"])
                if wait < 0:
                    raise ValueError("lock_wait_s must not be negative")
                self.lock_wait_s = wait
            if body.get("hold"):
                if self._control_owner is None:
                    self._control_owner = self.row_locks.new_owner()
                rows = [_id(i) or str(i) for i in body["hold"]]
                # Waits outside the emulator's lock, like a call; what it could not have
                # within wait_s (default 0) answers 409 (the rows it did get stay held).
                missed = self.row_locks.acquire(
                    self._control_owner, rows, time.monotonic() + float(body.get("wait_s", 0))
                )
                if missed:
                    status = 409
        except (TypeError, ValueError) as err:
            return Response(json.dumps({"error": str(err)}), 400, content_type="application/json")
        result = {
            "ok": status == 200,
            "lock_wait_s": self.lock_wait_s,
            "held": self.row_locks.held(),
            "lock_refusals": dict(self.lock_refusals),
        }
        return Response(json.dumps(result), status, content_type="application/json")

    def _release_control(self) -> None:
        if self._control_owner is not None:
            self.row_locks.release(self._control_owner)
            self._control_owner = None
