"""Values the Salesforce adapter hands back, its cursor, and its error mapping.

Kept apart from the adapter so the engine and its tests can use them without a client.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import requests
from simple_salesforce.exceptions import SalesforceError, SalesforceExpiredSession

from accounts.providers.errors import (
    SALESFORCE,
    ProviderError,
    ReconnectRequired,
    TemporaryProviderError,
)

Record = dict[str, Any]

#: Error codes that mean "the record is not there any more" on update or delete.
GONE_CODES = frozenset({"ENTITY_IS_DELETED", "NOT_FOUND", "INVALID_CROSS_REFERENCE_KEY"})

_ID = re.compile(r"^[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?$")


def check_id(value: str) -> str:
    """An id goes into SOQL text: refuse anything that is not one (no quoting games)."""
    if not _ID.match(value):
        raise ValueError(f"not a Salesforce id: {value!r}")
    return value


def soql_datetime(value: datetime) -> str:
    """A SOQL datetime literal, floored to the second (the overlap makes flooring safe)."""
    if value.tzinfo is None:
        raise ValueError("Salesforce cursors must be timezone-aware")
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def floor_second(value: datetime) -> datetime:
    return value.replace(microsecond=0)


def parse_sf_datetime(value: str) -> datetime:
    """`2024-05-15T12:00:00.000+0000` as Salesforce writes datetimes."""
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%f%z").astimezone(UTC)


def strip_attributes(value: Any) -> Any:
    """A query row as plain dicts, without `attributes` (also inside relationship fields)."""
    if isinstance(value, Mapping):
        return {k: strip_attributes(v) for k, v in value.items() if k != "attributes"}
    if isinstance(value, list):
        return [strip_attributes(v) for v in value]
    return value


def select_list(fields: Sequence[str], required: Sequence[str]) -> list[str]:
    """`fields` plus what the adapter needs, each once (Salesforce rejects duplicates)."""
    out: list[str] = []
    seen: set[str] = set()
    for name in (*fields, *required):
        key = name.strip().lower()
        if key and key not in seen:
            seen.add(key)
            out.append(name.strip())
    return out


# -- cursor -------------------------------------------------------------------------------


@dataclass(frozen=True)
class SalesforceCursor:
    """Where one object's incremental read stands.

    `modstamp` is the highest SystemModstamp Salesforce returned (its own clock). Rows can
    commit late with an older stamp, so the next read asks for `SystemModstamp > modstamp -
    overlap`, and `seen` (Id -> SystemModstamp text of rows already delivered inside that
    overlap) keeps them from being delivered twice. Once a read has run at least `overlap`
    after the read that set `modstamp` (`read_at`, measured on our clock: only a
    difference of our own readings is used, so clock skew with Salesforce does not
    matter), every late commit has been seen: the cursor is `settled` and later reads ask
    only for rows after modstamp's second. An idle session then reads nothing.
    """

    modstamp: datetime | None = None
    seen: Mapping[str, str] = field(default_factory=dict)
    read_at: datetime | None = None
    settled: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "modstamp": self.modstamp.isoformat() if self.modstamp else None,
            "seen": dict(self.seen),
            "read_at": self.read_at.isoformat() if self.read_at else None,
            "settled": self.settled,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> SalesforceCursor:
        if not data:
            return cls()

        def when(key: str) -> datetime | None:
            return datetime.fromisoformat(data[key]) if data.get(key) else None

        return cls(
            when("modstamp"),
            dict(data.get("seen") or {}),
            when("read_at"),
            bool(data.get("settled")),
        )

    @classmethod
    def coerce(cls, value: SalesforceCursor | datetime | None) -> SalesforceCursor:
        """A bare datetime is an unsettled cursor with no memory: the overlap re-delivers."""
        if isinstance(value, SalesforceCursor):
            return value
        return cls(value)

    def condition(self, overlap: timedelta) -> str | None:
        """The SOQL condition of the next read; None for a full read."""
        if self.modstamp is None:
            return None
        if self.settled:
            after = floor_second(self.modstamp) + timedelta(seconds=1)
            return f"SystemModstamp >= {soql_datetime(after)}"
        return f"SystemModstamp > {soql_datetime(floor_second(self.modstamp - overlap))}"


class CursorStep:
    """Folds the rows of one read into the next cursor and drops rows already delivered."""

    def __init__(
        self, cursor: SalesforceCursor, overlap: timedelta, started: datetime, ended: datetime
    ) -> None:
        self.old = cursor
        self.overlap = overlap
        self.started = started  # our clock before the read
        self.ended = ended  # our clock after the read's first response
        self.max_stamp = cursor.modstamp
        self.seen: dict[str, str] = dict(cursor.seen)

    def is_new(self, row: Mapping[str, Any], *, advances: bool = True) -> bool:
        """Record `row`; False when an earlier read already delivered this version."""
        stamp_text = row["SystemModstamp"]
        duplicate = self.old.seen.get(row["Id"]) == stamp_text
        stamp = parse_sf_datetime(stamp_text)
        if advances and (self.max_stamp is None or stamp > self.max_stamp):
            self.max_stamp = stamp
        self.seen[row["Id"]] = stamp_text
        return not duplicate

    def cursor(self) -> SalesforceCursor:
        old = self.old
        if self.max_stamp is None:
            return old  # nothing ever seen: the next read is full again (and as cheap)
        if old.modstamp is None or self.max_stamp > old.modstamp:
            floor = floor_second(self.max_stamp - self.overlap)
            keep = {i: s for i, s in self.seen.items() if parse_sf_datetime(s) > floor}
            return SalesforceCursor(self.max_stamp, keep, self.ended, settled=False)
        if old.settled:
            return old
        if old.read_at is not None and self.started - old.read_at >= self.overlap:
            # This read looked at the whole overlap long enough after the stamp was set.
            return SalesforceCursor(old.modstamp, {}, old.read_at, settled=True)
        if old.read_at is None:
            return SalesforceCursor(old.modstamp, self.seen, self.ended, settled=False)
        return SalesforceCursor(old.modstamp, self.seen, old.read_at, settled=False)


# -- results ------------------------------------------------------------------------------


@dataclass
class Changes:
    """One object's rows from a read: live rows and soft-deleted rows, by Id."""

    records: dict[str, Record] = field(default_factory=dict)
    deleted: dict[str, Record] = field(default_factory=dict)

    def add(self, row: Record) -> None:
        if row.get("IsDeleted"):
            self.records.pop(row["Id"], None)
            self.deleted[row["Id"]] = row
        else:
            self.deleted.pop(row["Id"], None)
            self.records[row["Id"]] = row

    def __len__(self) -> int:
        return len(self.records) + len(self.deleted)


@dataclass
class ChangeBatch:
    """What changed in Salesforce since the cursors, and the cursors to store after it.

    `events` holds parent events only (IsChild = false): the user's own, and those the
    user is invited to (OwnerId is someone else). `invitations` are the user's
    EventRelation rows; a deleted one with a live parent means the user was uninvited.
    `merged` maps a merged-away Contact (also in `contacts.deleted`) to its master.
    `full` names the objects read without a cursor: absence there is not deletion.
    """

    contacts: Changes
    tasks: Changes
    events: Changes
    invitations: Changes
    merged: dict[str, str]
    cursors: dict[str, SalesforceCursor]
    full: frozenset[str]
    api_calls: int
    # The chosen contact view's describe, read in the same Composite: its query, or
    # None when Salesforce answered 404 (the view was deleted). Unset: no view asked.
    view_query: str | None = None
    view_missing: bool = False
    # getDeleted's earliestDateAvailable per object, read in the same Composite: rows
    # deleted before it are purged (Recycle Bin) and no feed will ever report them.
    earliest_available: dict[str, datetime] = field(default_factory=dict)
    # The events the user holds a live invitation to, when this read listed them (a child
    # copy on the user's calendar changed, or the invitation read was full); None when
    # not listed. A linked invited event missing from it lost its invitation even when the
    # deleted EventRelation row never showed in queryAll (relation rows deleted directly
    # may skip the Recycle Bin: sandbox/salesforce/FIDELITY.md).
    invited_event_ids: frozenset[str] | None = None

    @property
    def empty(self) -> bool:
        return not (self.contacts or self.tasks or self.events or self.invitations)


@dataclass(frozen=True)
class WriteResult:
    ok: bool
    id: str | None
    error_code: str | None = None
    message: str | None = None
    fields: tuple[str, ...] = ()

    @property
    def gone(self) -> bool:
        """The record was deleted or never existed: the engine relinks or forgets it."""
        return not self.ok and self.error_code in GONE_CODES

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> WriteResult:
        if data.get("success"):
            return cls(True, data.get("id"))
        errors = data.get("errors") or [{}]
        first = errors[0]
        return cls(
            False,
            data.get("id"),
            first.get("statusCode") or first.get("errorCode"),
            first.get("message"),
            tuple(first.get("fields") or ()),
        )


@dataclass(frozen=True)
class OrgUsage:
    """The org's rolling 24-hour API usage from the Sforce-Limit-Info header."""

    used: int
    limit: int


# -- errors -------------------------------------------------------------------------------


def _first_error(content: Any) -> tuple[str, str]:
    if isinstance(content, list) and content and isinstance(content[0], Mapping):
        first = content[0]
        return str(first.get("errorCode") or ""), str(first.get("message") or "")
    return "", str(content or "")


REQUEST_LIMIT_RETRY_AFTER = 3600.0  # seconds


def error_for(status: int, content: Any) -> ProviderError:
    """The engine's error class for a Salesforce error response (or composite subresponse)."""
    code, message = _first_error(content)
    text = f"Salesforce {status} {code}: {message}".replace("  ", " ").strip()
    if status == 401:
        return ReconnectRequired(text, side=SALESFORCE, status=status)
    if status == 403 and code == "REQUEST_LIMIT_EXCEEDED":
        # The org's rolling 24-hour API limit: Salesforce sends no Retry-After; calls free
        # up as the window rolls, so come back in an hour rather than at the next tick.
        return TemporaryProviderError(
            text, retry_after=REQUEST_LIMIT_RETRY_AFTER, side=SALESFORCE, status=status
        )
    if status >= 500 or status == 429:
        return TemporaryProviderError(text, side=SALESFORCE, status=status)
    return ProviderError(text, side=SALESFORCE, status=status)


def translate(exc: Exception) -> ProviderError:
    """Map simple-salesforce and requests exceptions; ProviderErrors pass unchanged."""
    if isinstance(exc, ProviderError):
        return exc
    if isinstance(exc, SalesforceExpiredSession):
        # The `call` we were given already refreshed once, or cannot: the user must reconnect.
        return ReconnectRequired(
            "Salesforce refused the session: reconnect Salesforce.", side=SALESFORCE
        )
    if isinstance(exc, SalesforceError):
        return error_for(exc.status, exc.content)
    if isinstance(exc, requests.RequestException):
        return TemporaryProviderError(f"Salesforce could not be reached: {exc}", side=SALESFORCE)
    raise exc
