"""SyncFolderItems change feeds and the calendar window (EWS through exchangelib).

Every folder's feed is SyncFolderItems with its stored SyncState: at most 512 changes a
call (the schema's cap), followed while `IncludesLastItemInRange` is false (exchangelib's
`sync_items` loops on it), ids and ChangeKeys only. Changed contacts and tasks go to the
reader by id and ChangeKey (`MailboxChanges.versions_only`), which reads with GetItem (in
batches, `chunk_size` ids a call) only those not at the ChangeKey of Relay's last write of
them: the echoes of a big book's 50,000 creates cost no GetItem. An invalid SyncState
(ErrorInvalidSyncStateData) raises `CursorExpired`; the adapter then reads the folder in
full with a new SyncState.

The calendar's SyncFolderItems reports series masters and single items, never
occurrences (an edit to one occurrence is an Update of its master). Relay syncs a series
occurrence by occurrence inside the window, as on Office 365: a changed master is expanded
with one CalendarView FindItem over [now - 14 d, now + 60 d] and its occurrences and
exceptions are read with GetItem. The event cursor is JSON holding the SyncState, the
window start, and per series (master id) its UID and occurrence ids, so a deleted master
or occurrence is reported as removed ids.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from exchangelib import EWSDateTime, EWSTimeZone
from exchangelib import errors as ews_errors
from exchangelib.folders.base import Folder

from ..base import CursorExpired
from .writes import GONE, get_items_by_id, in_chunks

MAX_CHANGES = 512  # MaxChangesReturned's upper bound in the EWS schema
GET_CHUNK = 100  # ids per GetItem call
WINDOW_BACK = dt.timedelta(days=14)
WINDOW_AHEAD = dt.timedelta(days=60)
REBASE_AFTER = dt.timedelta(days=1)


@dataclass
class FolderDelta:
    # Created or updated ids, in order, with the ChangeKey SyncFolderItems returned (the
    # item's current version).
    versions: dict[str, str] = field(default_factory=dict)
    deleted: list[str] = field(default_factory=list)
    read_flags: list[str] = field(default_factory=list)  # only IsRead changed
    state: str = ""
    # For the calendar: the type and UID SyncFolderItems returned with each changed id.
    kinds: dict[str, tuple[str, str]] = field(default_factory=dict)

    @property
    def changed(self) -> list[str]:
        return list(self.versions)


def sync_folder(folder: Folder, state: str | None, *, calendar: bool = False) -> FolderDelta:
    """All changes since `state` (None: every item, as creates)."""
    out = FolderDelta()
    only = ["uid", "type"] if calendar else []
    try:
        for change, item in folder.sync_items(
            sync_state=state or None, only_fields=only, max_changes_returned=MAX_CHANGES
        ):
            if isinstance(item, Exception):
                raise item
            if change in ("create", "update"):
                out.versions[str(item.id)] = str(item.changekey or "")
                if calendar:
                    out.kinds[str(item.id)] = (str(item.type or ""), str(item.uid or ""))
            elif change == "delete":
                out.deleted.append(str(item.id))
            elif change == "read_flag_change":
                out.read_flags.append(str(item[0].id if isinstance(item, tuple) else item.id))
    except ews_errors.ErrorInvalidSyncStateData as exc:
        raise CursorExpired(f"the Exchange SyncState was refused: {exc}") from exc
    out.state = str(folder.item_sync_state or "")
    gone = set(out.deleted)
    out.versions = {i: v for i, v in out.versions.items() if i not in gone}
    return out


def get_items(
    account: Any, ids: Sequence[str], folder: Folder, concurrency: int = 1
) -> dict[str, Any | None]:
    """GetItem in batches, up to `concurrency` calls in flight: the item, or None when it
    is gone. `folder` (any, no call) names the item fields to ask for (exchangelib would
    otherwise read the root)."""
    ids = list(dict.fromkeys(ids))
    answers = in_chunks(
        lambda part: get_items_by_id(account, part, folder, GET_CHUNK), ids, GET_CHUNK, concurrency
    )
    out: dict[str, Any | None] = {}
    for item_id, item in zip(ids, answers, strict=True):
        if isinstance(item, GONE):
            out[item_id] = None
        elif isinstance(item, Exception):
            raise item
        else:
            out[item_id] = item
    return out


def window(now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    now = now.astimezone(dt.UTC).replace(microsecond=0)
    return now - WINDOW_BACK, now + WINDOW_AHEAD


def ews_utc(value: dt.datetime) -> EWSDateTime:
    utc = value.astimezone(dt.UTC)
    return EWSDateTime(*utc.timetuple()[:6], tzinfo=EWSTimeZone("UTC"))


def calendar_view(
    calendar: Folder, start: dt.datetime, end: dt.datetime
) -> list[tuple[str, str, str]]:
    """(id, type, uid) of every single, occurrence and exception in the window (one
    FindItem with CalendarView; FindItem cannot return bodies, GetItem reads those)."""
    rows = calendar.view(start=ews_utc(start), end=ews_utc(end)).only("id", "uid", "type")
    out = []
    for row in rows:
        if isinstance(row, Exception):
            raise row
        out.append((str(row.id), str(row.type or ""), str(row.uid or "")))
    return out


@dataclass
class EventCursor:
    state: str = ""
    window_start: dt.datetime | None = None
    series: dict[str, dict[str, Any]] = field(default_factory=dict)  # master -> uid, occ

    @classmethod
    def parse(cls, text: str | None) -> EventCursor | None:
        if not text:
            return None
        try:
            data = json.loads(text)
            start = dt.datetime.fromisoformat(data["w"]) if data.get("w") else None
            return cls(str(data["s"]), start, dict(data.get("series") or {}))
        except (ValueError, KeyError, TypeError):
            return None  # not ours (another format): a full read

    def dump(self) -> str:
        return json.dumps(
            {
                "s": self.state,
                "w": self.window_start.isoformat() if self.window_start else None,
                "series": self.series,
            },
            sort_keys=True,
        )

    def occurrence_ids(self, masters: Iterable[str]) -> set[str]:
        out: set[str] = set()
        for master in masters:
            out |= set((self.series.get(master) or {}).get("occ") or ())
        return out
