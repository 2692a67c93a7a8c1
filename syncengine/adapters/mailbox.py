"""What the engine needs from a mailbox (Office 365 or Gmail), whichever it is.

Adapters return the API's own JSON; `syncengine.mappers` turns it into canonical records.
Every method counts the HTTP calls it makes in `api_calls`, so a session can report what
it spent.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from accounts.providers.errors import ProviderError

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


@dataclass(frozen=True)
class WriteResult:
    ok: bool
    id: str = ""  # the item's id after the write (new id for creates)
    version: str = ""  # changeKey / etag after the write, when the API returns one
    item: dict[str, Any] | None = None  # the item as the API returned it
    status: int = 0
    error: str = ""  # what the API said, for the Issues view


class MailboxAdapter(Protocol):
    kind: str  # "office365" | "gmail"
    api_calls: int

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
