"""What the engine needs from a mailbox kind (Office 365, Gmail, ...), whichever it is.

A kind is three things (see README.md in this package):

- a `MailboxAdapter`: containers, change feeds and full reads (the email feed too), the
  batched writer. It returns the API's own JSON and counts its HTTP calls in `api_calls`;
- a `MailboxCodec`: that JSON <-> the planner's canonical records, the Salesforce-id
  marker, and the few facts about the API the engine's reads and writes depend on;
- a `MailboxKind`: the registered entry point that builds both for a connection.

The engine core (session, reads, executor, email step) only ever talks to these protocols.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from accounts.providers.errors import ProviderError
from syncengine.emails.feed import EmailFeed
from syncengine.emails.records import EmailRecord
from syncengine.planner import ItemType, MailboxRecord

if TYPE_CHECKING:
    from accounts.models import Connection
    from syncengine.mappers.people import MailboxPeople

# The roles of the mailbox containers the engine uses (see syncengine.models).
CONTACTS, TASKS, EVENTS, EMAILS = "contacts", "tasks", "events", "emails"
CONTAINER_NAMES = {
    CONTACTS: "Salesforce Contacts",
    TASKS: "Salesforce Tasks",
    EVENTS: "Salesforce",  # the Outlook category; on Google, the primary calendar
    EMAILS: "Salesforce Emails",
}


class CursorExpired(ProviderError):
    """The server no longer knows this delta link / sync token: reconcile with a full read."""


@dataclass(frozen=True)
class ContainerRef:
    role: str
    external_id: str
    name: str
    created: bool = False


@dataclass
class MailboxChanges:
    """One feed's changes since a cursor (or everything, when the cursor was None)."""

    items: list[dict[str, Any]] = field(default_factory=list)  # added or updated, API JSON
    removed_ids: list[str] = field(default_factory=list)  # deleted or moved out of the feed
    cursor: str = ""  # what to pass next time
    full: bool = False  # True when this was a full read (no cursor, or it had expired)
    # Added or updated items the feed named by id and version alone, their content not read
    # yet (EWS SyncFolderItems answers ids and ChangeKeys): the reader reads those whose
    # version is not the one Relay last wrote (`MailboxAdapter.fetch`); an item still at
    # that version is unchanged since, like the 50,000 echoes after a big book's first sync.
    versions_only: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class WriteResult:
    ok: bool
    id: str = ""  # the item's id after the write (new id for creates)
    version: str = ""  # changeKey / etag after the write, when the API returns one
    item: dict[str, Any] | None = None  # the item as the API returned it
    status: int = 0
    error: str = ""  # what the API said, for the Issues view


class MailboxAdapter(Protocol):
    api_calls: int
    # role -> container as the adapter knows it now (Office 365 finds a deleted folder or
    # list again mid-session; the session stores the new id).
    containers: dict[str, ContainerRef]

    def ensure_containers(self, known: Mapping[str, str]) -> dict[str, ContainerRef]:
        """Find by name or create each container, once; `known` maps role -> stored id."""
        ...

    def read_changes(
        self, item_type: str, cursor: str | None, containers: Mapping[str, ContainerRef]
    ) -> MailboxChanges:
        """Changes of one item type since `cursor`; raises CursorExpired when refused."""
        ...

    def read_all_changes(
        self, cursors: Mapping[str, str | None], containers: Mapping[str, ContainerRef]
    ) -> dict[str, MailboxChanges]:
        """Every item type at once, in as few HTTP calls as the API allows (the idle path).

        A feed whose cursor expired comes back as a full read with `full=True`.
        """
        ...

    def fetch(self, item_type: str, ids: Sequence[str]) -> dict[str, dict[str, Any] | None]:
        """Current state of items by id (None: gone), to confirm deletions."""
        ...

    def create(
        self,
        item_type: str,
        payloads: Sequence[dict[str, Any]],
        containers: Mapping[str, ContainerRef],
    ) -> list[WriteResult]: ...

    def update(
        self, item_type: str, changes: Sequence[tuple[str, dict[str, Any]]]
    ) -> list[WriteResult]: ...

    def delete(self, item_type: str, ids: Sequence[str]) -> list[WriteResult]: ...

    def write_window(self, item_type: str) -> int:
        """Items per `create` call that keep the service as busy as it allows one user: the
        executor writes one window's links while the next window is in flight (0: all)."""
        ...

    def write_lane(self, item_type: str) -> str:
        """The service budget writes of `item_type` spend (its concurrency allowance): types
        of different lanes are written at once (syncengine.lanes), types of one lane one
        after another, so together they never have more in flight than the budget allows."""
        ...

    def read_all_with_emails(
        self,
        cursors: Mapping[str, str | None],
        email_cursors: Mapping[str, str | None],
        containers: Mapping[str, ContainerRef],
        *,
        auto_save: bool,
        owner: str | None = None,
    ) -> tuple[dict[str, MailboxChanges], EmailFeed]:
        """`read_all_changes` and the email feeds, in as few calls as the API allows."""
        ...

    def read_email_changes(
        self,
        cursors: Mapping[str, str | None],
        containers: Mapping[str, ContainerRef],
        *,
        auto_save: bool,
        owner: str | None = None,
    ) -> EmailFeed:
        """The email feeds alone (the Salesforce folder / label; inbox and sent items
        with auto-save)."""
        ...

    def fetch_emails(
        self, ids: Sequence[str], containers: Mapping[str, ContainerRef], *, owner: str = ""
    ) -> dict[str, EmailRecord | None]:
        """Messages by id with their attachments' contents (None: gone)."""
        ...


class FeedsAtOnce:
    """`read_all_changes` and `read_all_with_emails` for a kind whose feeds are separate
    calls no batch can join (Gmail's four APIs, the EWS folders): the kind's `_read_feeds`
    sends every item feed and the `more` reads at once, and the email feed counts the calls
    of both, as Office 365's shared `$batch` does. A mixin: the kind brings the two hooks."""

    api_calls: int

    def _read_feeds(
        self,
        cursors: Mapping[str, str | None],
        containers: Mapping[str, ContainerRef],
        more: Sequence[Callable[[], Any]],
    ) -> tuple[dict[str, MailboxChanges], list[Any]]:
        """The item feeds by role, and the results of `more` in order."""
        raise NotImplementedError

    def _email_reader(
        self,
        cursors: Mapping[str, str | None],
        containers: Mapping[str, ContainerRef],
        auto_save: bool,
        owner: str | None,
    ) -> Callable[[], EmailFeed]:
        """The email feeds' read, to run alongside the item feeds."""
        raise NotImplementedError

    def read_all_changes(
        self, cursors: Mapping[str, str | None], containers: Mapping[str, ContainerRef]
    ) -> dict[str, MailboxChanges]:
        return self._read_feeds(cursors, containers, [])[0]

    def read_all_with_emails(
        self,
        cursors: Mapping[str, str | None],
        email_cursors: Mapping[str, str | None],
        containers: Mapping[str, ContainerRef],
        *,
        auto_save: bool,
        owner: str | None = None,
    ) -> tuple[dict[str, MailboxChanges], EmailFeed]:
        before = self.api_calls
        read_mail = self._email_reader(email_cursors, containers, auto_save, owner)
        changes, (feed,) = self._read_feeds(cursors, containers, [read_mail])
        feed.api_calls = self.api_calls - before
        return changes, feed


class ItemCodec(Protocol):
    """One item type of one kind: the API's JSON <-> canonical fields, and its marker.

    `previous` is the link's snapshot (fields the API cannot hold are kept from it)."""

    # Facts about the API that the engine's reads and writes depend on:
    marker_in_feed: bool  # False: the change feed leaves the marker out, fetch to see it
    removed_may_be_alive: bool  # a "removed" in the feed may mean "left the window"
    kept_unread: tuple[str, ...]  # payload keys to leave out when the item was not read

    def fields(
        self, item: Mapping[str, Any], previous: Mapping[str, Any] | None
    ) -> dict[str, Any]: ...

    def marker(self, item: Mapping[str, Any]) -> str | None:
        """The Salesforce id the item carries (the marker), if any."""
        ...

    def marked(self, item: Mapping[str, Any]) -> bool:
        """Whether the item is meant for Salesforce (in the container / carries the flag)."""
        ...

    def modified(self, item: Mapping[str, Any]) -> dt.datetime: ...

    def series_key(self, item: Mapping[str, Any]) -> str | None: ...

    def payload(
        self,
        fields: Mapping[str, Any],
        sf_id: str | None,
        existing: Mapping[str, Any] | None,
        *,
        create: bool,
    ) -> dict[str, Any]:
        """The write body, always with the marker (a crash between write and link heals)."""
        ...

    def marker_payload(
        self, fields: Mapping[str, Any], sf_id: str, existing: Mapping[str, Any] | None
    ) -> dict[str, Any] | None:
        """A write that only stores the marker (None: the API cannot patch it)."""
        ...

    def update_needs_current(self, fields: Mapping[str, Any], before: Mapping[str, Any]) -> bool:
        """Whether an update of an item not read this session must read it first (the
        payload would otherwise replace what the user added that Relay does not map)."""
        ...


class MailboxCodec:
    """A kind's item codecs behind one object: the engine asks by item type."""

    def __init__(self, items: Mapping[ItemType, ItemCodec]) -> None:
        self.items = dict(items)

    def fields(
        self, item_type: ItemType, item: Mapping[str, Any], previous: Mapping[str, Any] | None
    ) -> dict[str, Any]:
        return self.items[item_type].fields(item, previous)

    def marker(self, item_type: ItemType, item: Mapping[str, Any]) -> str | None:
        return self.items[item_type].marker(item)

    def people(self, item_type: ItemType, item: Mapping[str, Any]) -> MailboxPeople | None:
        """Who a mailbox event is about (issue 9: attendees, organizer, iCal UID); None for
        item types whose codec reads no people (an optional codec method)."""
        reader = getattr(self.items[item_type], "people", None)
        return reader(item) if reader is not None else None

    def description_payload(self, item_type: ItemType, text: str | None) -> dict[str, Any] | None:
        """A patch setting only the item's description (issue 9's "In Salesforce:" block);
        None for item types whose codec has none (an optional codec method)."""
        writer = getattr(self.items[item_type], "description_payload", None)
        return writer(text) if writer is not None else None

    def description_text(self, item_type: ItemType, item: Mapping[str, Any]) -> str | None:
        """The item's description as the mailbox holds it, Relay's block included."""
        reader = getattr(self.items[item_type], "description_text", None)
        return reader(item) if reader is not None else None

    def marked(self, item_type: ItemType, item: Mapping[str, Any]) -> bool:
        return self.items[item_type].marked(item)

    def max_items(self, item_type: ItemType) -> int | None:
        """How many items of the type the mailbox may hold in all, Relay's or not (an
        optional codec attribute, ``max_items``); None: no limit Relay must respect."""
        limit = getattr(self.items[item_type], "max_items", None)
        return int(limit) if limit is not None else None

    def may_notify(self, item_type: ItemType) -> bool:
        """Whether a write to an existing item of this type can make the API message
        people (an optional codec method, ``notified_by_write``; SPEC §2b)."""
        return getattr(self.items[item_type], "notified_by_write", None) is not None

    def notified_by_write(self, item_type: ItemType, item: Mapping[str, Any]) -> int:
        """How many people the API would message if Relay changed or deleted this existing
        item (Graph: the attendees of a meeting the user organizes; it cannot suppress
        that). 0 for kinds that write without messaging anyone (Google sendUpdates=none,
        EWS SendToNone)."""
        counter = getattr(self.items[item_type], "notified_by_write", None)
        return int(counter(item)) if counter is not None else 0

    def record(
        self,
        item_type: ItemType,
        item: Mapping[str, Any],
        previous: Mapping[str, Any] | None = None,
    ) -> MailboxRecord:
        codec = self.items[item_type]
        return MailboxRecord(
            mailbox_id=self.item_id(item),
            item_type=item_type,
            fields=codec.fields(item, previous),
            modified_at=codec.modified(item),
            marked=codec.marked(item),
            sf_id_marker=codec.marker(item),
            series_key=codec.series_key(item),
        )

    @staticmethod
    def item_id(item: Mapping[str, Any]) -> str:
        return str(item.get("resourceName") or item.get("id"))

    @staticmethod
    def tombstone(item_type: ItemType, mailbox_id: str, now: dt.datetime) -> MailboxRecord:
        return MailboxRecord(mailbox_id, item_type, {}, now, deleted=True)

    def needs_fetch_for_marker(self, item_type: ItemType) -> bool:
        return not self.items[item_type].marker_in_feed

    def removed_may_be_alive(self, item_type: ItemType) -> bool:
        return self.items[item_type].removed_may_be_alive

    def kept_unread(self, item_type: ItemType) -> tuple[str, ...]:
        return self.items[item_type].kept_unread

    def update_needs_current(
        self, item_type: ItemType, fields: Mapping[str, Any], before: Mapping[str, Any]
    ) -> bool:
        return self.items[item_type].update_needs_current(fields, before)

    def payload(
        self,
        item_type: ItemType,
        fields: Mapping[str, Any],
        sf_id: str | None,
        existing: Mapping[str, Any] | None = None,
        *,
        create: bool = False,
    ) -> dict[str, Any]:
        return self.items[item_type].payload(fields, sf_id, existing, create=create)

    def marker_payload(
        self,
        item_type: ItemType,
        fields: Mapping[str, Any],
        sf_id: str,
        existing: Mapping[str, Any] | None,
    ) -> dict[str, Any] | None:
        return self.items[item_type].marker_payload(fields, sf_id, existing)


class MailboxKind(Protocol):
    """A registered mailbox kind (see syncengine.mailboxes.registry)."""

    name: str  # the Connection.provider value; also names the kind's cursors
    capabilities: frozenset[str]  # e.g. CAN_SUPPRESS_INVITES

    def adapter(
        self, connection: Connection, time_zone: str, clock: Callable[[], dt.datetime] | None
    ) -> MailboxAdapter:
        """The adapter for this connection, over the kind's client library."""
        ...

    def codec(
        self, time_zone: str, containers: Mapping[str, ContainerRef], instance_url: str
    ) -> MailboxCodec: ...


# Capabilities a kind may declare (the engine asks `CAPABILITY in kind.capabilities`).
CAN_SUPPRESS_INVITES = "can_suppress_invites"  # create events without mailing attendees
