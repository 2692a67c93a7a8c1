"""In-memory mailboxes: the data every Graph endpoint reads and writes.

Items are kept as Graph-shaped dicts (camelCase, as the API returns them). Keys starting with
`_` are the emulator's bookkeeping (version sequence, folder, extended properties) and are
never rendered. Every write goes through `touch`, which bumps `changeKey`,
`lastModifiedDateTime` and the mailbox-wide sequence the delta engine compares against.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sandbox.common import HttpError

from .timezones import UTC, fmt_instant

Item = dict[str, Any]


class Clock:
    """The emulator's "now": real time unless a test pins or steers it."""

    def __init__(self) -> None:
        self._fixed: dt.datetime | Callable[[], dt.datetime] | None = None

    def set(self, value: dt.datetime | Callable[[], dt.datetime] | None) -> None:
        self._fixed = value

    @property
    def setting(self) -> dt.datetime | Callable[[], dt.datetime] | None:
        """What `set` was given (to restore it after pinning the clock for a while)."""
        return self._fixed

    def now(self) -> dt.datetime:
        value = self._fixed() if callable(self._fixed) else self._fixed
        value = value or dt.datetime.now(UTC)
        return value if value.tzinfo else value.replace(tzinfo=UTC)


@dataclass
class DeltaState:
    """What a delta/skip token stands for: the collection, the query, what the client saw."""

    kind: str  # "contacts" | "events" | "tasks" | "messages"
    scope: str  # folder/list id, or "" for the calendar
    params: dict[str, Any]
    seen: dict[str, str]  # id -> version the client holds after this round
    since_seq: int
    pending: list[Item] = field(default_factory=list)  # rows still to page out (skip tokens)


@dataclass
class Mailbox:
    upn: str
    display_name: str
    time_zone: str = "UTC"
    user_id: str = ""
    contact_folders: dict[str, Item] = field(default_factory=dict)
    contacts: dict[str, Item] = field(default_factory=dict)
    calendar: Item = field(default_factory=dict)
    events: dict[str, Item] = field(default_factory=dict)  # singles and series masters
    event_tombstones: dict[str, int] = field(default_factory=dict)  # id -> seq deleted
    categories: dict[str, Item] = field(default_factory=dict)
    todo_lists: dict[str, Item] = field(default_factory=dict)
    tasks: dict[str, Item] = field(default_factory=dict)
    mail_folders: dict[str, Item] = field(default_factory=dict)
    messages: dict[str, Item] = field(default_factory=dict)
    tokens: dict[str, DeltaState] = field(default_factory=dict)
    seq: int = 0
    default_contact_folder: str = ""
    moved_ids: set[str] = field(default_factory=set)  # old ids of items moved to another folder
    # Meeting requests/updates/cancellations Exchange would have sent (attendees.MeetingMessage).
    sent_messages: list[Any] = field(default_factory=list)


class IdMaker:
    """Exchange-looking ids ("AAMkA…=") that are deterministic for a given history.

    Deterministic so a seeded demo mailbox is the same on every run; the `-` and `=` in them
    are real Graph id characters and keep clients honest about URL quoting.
    """

    def __init__(self, salt: str = "relay") -> None:
        self.salt = salt
        self._n = itertools.count(1)

    def __call__(self, kind: str) -> str:
        digest = hashlib.sha256(f"{self.salt}:{kind}:{next(self._n)}".encode()).digest()
        text = base64.urlsafe_b64encode(digest[:33]).decode().replace("_", "Q")
        return f"AAMkA{text}="


def touch(mailbox: Mailbox, item: Item, now: dt.datetime, ids: IdMaker) -> Item:
    """Record a write: new changeKey/lastModifiedDateTime and a new mailbox sequence."""
    mailbox.seq += 1
    item["_seq"] = mailbox.seq
    item["changeKey"] = ids("ck")[5:21]
    stamp = fmt_instant(now)
    item.setdefault("createdDateTime", stamp)
    item["lastModifiedDateTime"] = stamp
    return item


def render(item: Item, select: list[str] | None = None) -> Item:
    """The public form of an item: bookkeeping dropped, `$select` applied (id always)."""
    out = {k: v for k, v in item.items() if not k.startswith("_")}
    if select:
        keep = {s.lower() for s in select} | {"id", "@odata.etag"}
        out = {k: v for k, v in out.items() if k.lower() in keep}
    return out


def not_found() -> HttpError:
    return HttpError(404, "ErrorItemNotFound", "The specified object was not found in the store.")


def invalid(message: str, code: str = "ErrorInvalidRequest") -> HttpError:
    return HttpError(400, code, message)


def get_or_404(items: dict[str, Item], item_id: str) -> Item:
    item = items.get(item_id)
    if item is None:
        # Ids are case-sensitive in Exchange; unknown ids are "not found", not "bad request".
        raise not_found()
    return item


def pop_ci(body: dict[str, Any], name: str) -> Any:
    """Remove and return a property matched case-insensitively (O365 sends
    "SingleValueExtendedProperties"; Graph accepts any casing of property names)."""
    for key in list(body):
        if key.lower() == name.lower():
            return body.pop(key)
    return None


def merge(item: Item, body: dict[str, Any], allowed: set[str]) -> None:
    """PATCH semantics: listed properties replace, unknown ones are refused like Graph does."""
    canon = {a.lower(): a for a in allowed}
    for key, value in body.items():
        if key.startswith("@odata"):
            continue
        name = canon.get(key.lower())
        if name is None:
            raise invalid(
                f"The property '{key}' does not exist on this type or is read-only.",
                "RequestBodyRead",
            )
        item[name] = value
