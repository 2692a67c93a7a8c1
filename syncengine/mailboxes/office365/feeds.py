"""The Graph delta round shared by the item feeds (adapter) and the mail feeds (mail):
one module below both, so neither imports the other's internals."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from ..base import CONTACTS, EMAILS, EVENTS, TASKS, MailboxChanges

CONTACT, TASK, EVENT, EMAIL = "contact", "task", "event", "email"
ROLE_OF = {CONTACT: CONTACTS, TASK: TASKS, EVENT: EVENTS, EMAIL: EMAILS}
ALIASES = {**{t: t for t in ROLE_OF}, **{role: t for t, role in ROLE_OF.items()}}


def item_type_of(name: str) -> str:
    """ "contact" | "task" | "event" | "email" (container role names are accepted too)."""
    try:
        return ALIASES[str(name).lower()]
    except KeyError:
        raise ValueError(f"Office 365 has no feed for item type {name!r}") from None


def quote_id(graph_id: str) -> str:
    return quote(graph_id, safe="")


def graph_stamp(when: dt.datetime) -> str:
    return when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class DeltaFeed:
    """One delta round in progress."""

    item_type: str
    url: str  # the next page to read (absolute link or relative path)
    full: bool
    window_start: dt.datetime | None = None
    rows: dict[str, dict[str, Any]] = field(default_factory=dict)
    removed: dict[str, None] = field(default_factory=dict)
    cursor: str = ""
    restarts: int = 0
    refound: bool = False
    prefer: str = ""  # more Prefer values for this feed (the mail feeds')
    reopen: Callable[[], DeltaFeed] | None = None  # a new round, when not `_initial(item_type)`

    @property
    def done(self) -> bool:
        return bool(self.cursor)

    def take(self, page: Mapping[str, Any]) -> None:
        # Later rows win: Graph may replay an item within a round.
        for row in page.get("value") or ():
            item_id = str(row.get("id", ""))
            if "@removed" in row:
                self.rows.pop(item_id, None)
                self.removed[item_id] = None
            else:
                self.removed.pop(item_id, None)
                self.rows[item_id] = row

    def changes(self) -> MailboxChanges:
        return MailboxChanges(
            items=list(self.rows.values()),
            removed_ids=list(self.removed),
            cursor=self.cursor,
            full=self.full,
        )
